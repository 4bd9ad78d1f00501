import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { EventsModuleOptions } from './events-module-options.js';

/** Injection token of the resolved `EventsModuleOptions`. */
export const EVENTS_MODULE_OPTIONS = Symbol('EVENTS_MODULE_OPTIONS');

/** Extra `forRoot()` settings that shape the module rather than the bus. */
export interface EventsModuleExtras {
  /** Register the providers globally, so feature modules need not import `EventsModule`. Default: false. */
  isGlobal: boolean;
}

export const {
  ConfigurableModuleClass: ConfigurableEventsModule,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<EventsModuleOptions>({ optionsInjectionToken: EVENTS_MODULE_OPTIONS })
  .setClassMethodName('forRoot')
  .setExtras<EventsModuleExtras>({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
