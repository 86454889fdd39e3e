/**
 * Credentials and region for every tool (`npm run order|seed|redrive|chaos`, the e2e suite's AWS and
 * LocalStack targets, the API client), resolved the way the AWS CLI and SDKs do:
 *
 * - credentials: the standard provider chain (`@aws-sdk/credential-provider-node`): environment keys,
 *   SSO, `AWS_PROFILE` and the shared config/credentials files, credential_process, web identity, ECS
 *   and EC2 instance roles. Only for an emulator (an outputs file with `Endpoint`, or a URL that is not
 *   AWS), when the chain finds nothing, the dummy keys `test`/`test` (emulators accept any signature).
 * - region: the target's own, read from the outputs' ARNs and URLs (`arn:aws:states:eu-west-1:…`,
 *   `https://….execute-api.eu-west-1.amazonaws.com/v1/`); else the SDK's region chain (`AWS_REGION`,
 *   `AWS_DEFAULT_REGION`, the profile's `region`); else, for an emulator, `us-east-1`.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, Provider } from '@smithy/types';

/** Emulators accept any SigV4 signature; these keys sign when nothing else is configured. */
export const EMULATOR_CREDENTIALS: AwsCredentialIdentity = { accessKeyId: 'test', secretAccessKey: 'test' };
/** The region of the local cloud and LocalStack when nothing else names one. */
export const EMULATOR_REGION = 'us-east-1';

export interface AwsClientSettings {
  /** The region, or its provider (SDK clients and SigV4 signers accept either as it is). */
  region: string | Provider<string>;
  /** Custom endpoint (local cloud, LocalStack); absent for AWS itself. */
  endpoint?: string;
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

const REGION = '([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\\d)';
const ARN_REGION = new RegExp(`^arn:aws[a-z-]*:[a-z0-9-]+:${REGION}:`);
const URL_REGION = new RegExp(`[.-]${REGION}\\.amazonaws\\.com(?:\\.cn)?(?::\\d+)?(?:/|$)`);

/** The region an ARN or an AWS URL names (`undefined` for anything else, e.g. a localhost URL). */
export function regionOf(value: string): string | undefined {
  const arn = ARN_REGION.exec(value);
  if (arn) return arn[1];
  if (!/^https?:\/\//.test(value)) return undefined;
  return URL_REGION.exec(value)?.[1];
}

/** The region the outputs' ARNs and URLs agree on; throws when they name two. */
export function regionFromOutputs(outputs: Readonly<Record<string, string>>): string | undefined {
  const found = new Map<string, string>();
  for (const [name, value] of Object.entries(outputs)) {
    const region = regionOf(value);
    if (region && !found.has(region)) found.set(region, name);
  }
  if (found.size > 1) {
    throw new Error(
      `The outputs name more than one region (${[...found].map(([r, n]) => `${n}: ${r}`).join(', ')})`,
    );
  }
  return [...found.keys()][0];
}

/** Whether a URL is an AWS endpoint (vs. the local cloud, LocalStack, any emulator). */
export function isAwsUrl(url: string): boolean {
  try {
    return /\.amazonaws\.com(\.cn)?$/.test(new URL(url).hostname);
  } catch {
    return false;
  }
}

function memoize<T>(fn: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= fn().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

/** The SDK's own region chain: `AWS_REGION`, then the `region` of the profile (`AWS_PROFILE`). */
async function sdkRegion(): Promise<string | undefined> {
  const client = new SFNClient({});
  try {
    return await client.config.region();
  } catch {
    return undefined;
  } finally {
    client.destroy();
  }
}

/**
 * Region provider: `known` (from the target's ARNs/URLs) first, then `AWS_REGION`/`AWS_DEFAULT_REGION`/
 * the profile's region, then `us-east-1` for an emulator; for AWS without any, an error that says what to
 * set.
 */
export function regionProvider(known: string | undefined, emulator: boolean): Provider<string> {
  if (known) return () => Promise.resolve(known);
  return memoize(async () => {
    const region = (await sdkRegion()) ?? process.env.AWS_DEFAULT_REGION;
    if (region) return region;
    if (emulator) return EMULATOR_REGION;
    throw new Error(
      'No AWS region: the outputs name none, and neither AWS_REGION nor the profile sets one ' +
        '(set AWS_REGION, or `region` in the profile of ~/.aws/config)',
    );
  });
}

/** The standard credential chain; for an emulator, the dummy keys when the chain finds nothing. */
export function credentialProvider(emulator: boolean): AwsCredentialIdentityProvider {
  const chain = defaultProvider();
  return memoize(async () => {
    try {
      return await chain();
    } catch (error) {
      if (emulator) return EMULATOR_CREDENTIALS;
      throw new Error(
        `No AWS credentials (${(error as Error).message}). Sign in (aws sso login --profile NAME) and set ` +
          'AWS_PROFILE, or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY',
      );
    }
  });
}

/** SDK client settings for a target described by its outputs (`Endpoint` present = an emulator). */
export function awsClientSettings(outputs: Readonly<Record<string, string>>): AwsClientSettings {
  const endpoint = outputs.Endpoint || undefined;
  const emulator = endpoint !== undefined;
  return {
    region: regionProvider(regionFromOutputs(outputs), emulator),
    credentials: credentialProvider(emulator),
    ...(endpoint ? { endpoint } : {}),
  };
}
