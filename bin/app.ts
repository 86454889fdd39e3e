#!/usr/bin/env node
// The CDK app (`cdk.json`: `node --import tsx bin/app.ts`). Context: stage=dev|prod, faults=on,
// express=true, nag=true, throttlingRateLimit, throttlingBurstLimit, corsOrigin, alarmTopicArn,
// apiGatewayCloudWatchRole=true. The stacks are `OrderSaga-<stage>` and `TransferSaga-<stage>`.
import { createApp } from '../lib/app';

createApp().app.synth();
