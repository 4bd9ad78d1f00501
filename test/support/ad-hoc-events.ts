/**
 * Catalog type for tests that publish ad-hoc event types with any payload. Such tests also pass
 * `strict: false`, the run-time side of the same opt-out, so only the catalog tests and the
 * README examples exercise the built-in payload classes.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any payload is the point here
export type AdHocEvents = Record<string, any>;
