import { getMetadataStorage, IS_OPTIONAL, ValidationTypes } from 'class-validator';

import type { EventRegistry } from './catalog-registry.js';
import type { PayloadClass } from './event-catalog.js';

/** Top-level field of a payload class, read from its class-validator metadata. */
export interface PayloadField {
  /** Property name. */
  readonly name: string;
  /** Whether the property has `@IsOptional()`. */
  readonly optional: boolean;
}

/**
 * Lists the top-level fields of `payloadClass` in declaration order, followed by
 * inherited fields. Only properties with at least one class-validator decorator are
 * listed, which are also the only ones the whitelist keeps.
 */
export function listPayloadFields(payloadClass: PayloadClass): PayloadField[] {
  const metadatas = getMetadataStorage().getTargetValidationMetadatas(payloadClass, '', false, false);

  const optionalByName = new Map<string, boolean>();
  for (const metadata of metadatas) {
    const isOptional = metadata.type === ValidationTypes.CONDITIONAL_VALIDATION && metadata.name === IS_OPTIONAL;
    optionalByName.set(metadata.propertyName, (optionalByName.get(metadata.propertyName) ?? false) || isOptional);
  }

  return Array.from(optionalByName, ([name, optional]) => ({ name, optional }));
}

/**
 * Renders the events of `registry` as a Markdown table with the columns Event,
 * Source, Consumers and Payload fields, in registration order. Optional fields end
 * with `?`, and an event without consumers shows an em dash.
 */
export function renderCatalogTable(registry: EventRegistry): string {
  const lines = ['| Event | Source | Consumers | Meaning | Payload fields |', '|---|---|---|---|---|'];

  for (const definition of registry.list()) {
    const consumers = definition.consumers.length > 0 ? definition.consumers.join(', ') : '—';
    const fields = listPayloadFields(definition.payloadClass)
      .map((field) => `\`${field.name}${field.optional ? '?' : ''}\``)
      .join(', ');

    const cells = [`\`${definition.type}\``, definition.source, consumers, definition.description, fields];
    lines.push(`| ${cells.map(escapeTableCell).join(' | ')} |`);
  }

  return `${lines.join('\n')}\n`;
}

/** Escapes characters that would end a Markdown table cell or row. */
function escapeTableCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}
