/**
 * The execution history as GetExecutionHistory returns it, recorded by the states as they run: each
 * event gets the next id and the previous event's id, and listeners (the console) see it at once.
 */

/** A history event (details under `<camelType>EventDetails`). */
export interface HistoryEvent {
  id: number;
  previousEventId: number;
  timestamp: Date;
  type: string;
  [details: string]: unknown;
}

export class History {
  private readonly list: HistoryEvent[] = [];
  private closed = false;

  constructor(private readonly listener: (event: HistoryEvent) => void) {}

  get events(): readonly HistoryEvent[] {
    return this.list;
  }

  /** Records an event (nothing once the execution has closed); returns its id. */
  append(type: string, details?: Record<string, unknown>): number {
    if (this.closed) return 0;
    const id = this.list.length + 1;
    const event: HistoryEvent = { timestamp: new Date(), type, id, previousEventId: id - 1 };
    if (details) event[detailsKey(type)] = details;
    this.list.push(event);
    this.listener(event);
    return id;
  }

  /** `--persist`: the events a previous run recorded (before anything else is appended). */
  restore(events: readonly HistoryEvent[], closed: boolean): void {
    this.list.push(...events);
    this.closed = closed;
  }

  /** RedriveExecution: the history goes on after the outcome it had. */
  reopen(): void {
    this.closed = false;
  }

  /** The last event: the execution's outcome. Nothing is recorded after it (until a redrive). */
  close(type: string, details?: Record<string, unknown>): void {
    this.append(type, details);
    this.closed = true;
  }
}

/**
 * Where AWS puts an event's details: `stateEnteredEventDetails` for every `*StateEntered`,
 * `stateExitedEventDetails` for `*StateExited`, otherwise the type in camelCase + `EventDetails`.
 */
function detailsKey(type: string): string {
  if (type.endsWith('StateEntered')) return 'stateEnteredEventDetails';
  if (type.endsWith('StateExited')) return 'stateExitedEventDetails';
  return `${type.charAt(0).toLowerCase()}${type.slice(1)}EventDetails`;
}
