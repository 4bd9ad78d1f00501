import { Inject, Injectable, Module, type DynamicModule } from '@nestjs/common';
import { EventPublisher } from '../../lib/index.js';
import { EVENTS, type CommunityTopicExported } from '../events.js';
import { newId } from '../ids.js';
import { eventsModuleFor, SERVICE_NAMES, type ServiceConfig } from '../service-config.js';

const SERVICE = SERVICE_NAMES.community;

/** Publishing side of Community, which handles no events and so runs without a consumer group. */
@Injectable()
export class CommunityExporter {
  constructor(@Inject(EventPublisher) private readonly publisher: EventPublisher) {}

  /** Exports one member's topic suggestion to the Topic Engine. */
  async exportSuggestion(): Promise<void> {
    const suggestion: CommunityTopicExported = {
      suggestionId: newId('suggestion'),
      title: 'Is a 4-day work week more productive?',
      niche: 'careers',
      submittedBy: 'member-8812',
      votes: 7,
    };
    await this.publisher.publish(EVENTS.communityTopicExported, suggestion);
  }
}

@Module({})
export class CommunityModule {
  static register(config: ServiceConfig): DynamicModule {
    return {
      module: CommunityModule,
      imports: [eventsModuleFor(SERVICE, config)],
      providers: [CommunityExporter],
    };
  }
}
