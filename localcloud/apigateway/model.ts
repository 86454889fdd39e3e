/** A deployed REST API as the local API Gateway serves it (built by the deployer from the template). */

export interface ApiResource {
  id: string;
  parentId?: string;
  /** The path part (`orders`, `{orderId}`, `{proxy+}`); empty for the root. */
  pathPart: string;
}

export interface ApiMethod {
  resourceId: string;
  /** `GET`, `POST`, ... or `ANY`. */
  httpMethod: string;
  /** `NONE`, `AWS_IAM`, `COGNITO_USER_POOLS`, `CUSTOM`. */
  authorizationType: string;
  apiKeyRequired: boolean;
  integration?: {
    /** `AWS_PROXY` is served; `MOCK` answers 200 with an empty body; others answer 500. */
    type: string;
    /** For `AWS_PROXY`: `arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<fnArn>/invocations`. */
    uri?: string;
  };
}

export interface ApiStage {
  name: string;
  variables: Record<string, string>;
}

export interface RestApiModel {
  id: string;
  name: string;
  rootResourceId: string;
  resources: ApiResource[];
  methods: ApiMethod[];
  stages: ApiStage[];
}
