/**
 * Turns a payload of `fromVersion` into one of `fromVersion + 1`. Consumers apply upcasters in a
 * chain before validation, so they accept events from producers that have not upgraded yet.
 */
export interface Upcaster {
  /** Event type the upcaster applies to. */
  readonly type: string;
  /** Schema version it reads; it returns the next version. */
  readonly fromVersion: number;
  readonly upcast: (payload: Record<string, unknown>) => Record<string, unknown>;
}
