/** An SQS server in process (local-aws-sqs over real HTTP) and a stock SDK client of it, for DLQ tests. */
import { SQSClient } from '@aws-sdk/client-sqs';
import { createSqsServer } from 'local-aws-sqs';

export interface LocalSqs {
  sqs: SQSClient;
  close(): Promise<void>;
}

export async function startSqs(): Promise<LocalSqs> {
  const server = await createSqsServer({ port: 0, hostname: '127.0.0.1' });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const sqs = new SQSClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return {
    sqs,
    close: async () => {
      sqs.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
