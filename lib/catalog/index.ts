export * from './payloads/index.js';
export type {
  BuiltInEventCatalog,
  BuiltInEventType,
  EventCatalog,
  EventPayload,
  EventPayloadInput,
  EventType,
  PayloadClass,
  PayloadInput,
} from './event-catalog.js';
export {
  BUILT_IN_EVENT_DEFINITIONS,
  EventRegistry,
  EventRegistryError,
  PAYLOAD_TRANSFORM_OPTIONS,
  PAYLOAD_VALIDATOR_OPTIONS,
  defaultEventRegistry,
  isValidEventType,
  validatePayload,
} from './catalog-registry.js';
export type { EventDefinition, PayloadFieldError, PayloadValidationResult } from './catalog-registry.js';
export { listPayloadFields, renderCatalogTable } from './catalog-table.js';
export type { PayloadField } from './catalog-table.js';
export * from './catalog-errors.js';
export * from './event-schemas.js';
export * from './upcaster.js';
