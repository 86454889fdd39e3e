import type { HistoryEvent } from '@aws-sdk/client-sfn';
import type { StepName } from '../../lib/contract';

/**
 * Polls an execution's history until `step` has failed at least once (it is then in its Retry backoff):
 * the synchronisation for a cancel that must land in a backoff.
 */
export async function untilStepFailedOnce(
  history: (executionArn: string) => Promise<HistoryEvent[]>,
  executionArn: string,
  step: StepName,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const events = await history(executionArn);
    let current = '';
    for (const event of events) {
      const entered = event.stateEnteredEventDetails?.name;
      if (entered && event.type?.endsWith('StateEntered')) current = entered;
      if (current === step && event.type === 'LambdaFunctionFailed') return;
    }
    if (Date.now() > deadline) throw new Error(`${step} never failed in ${executionArn}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
