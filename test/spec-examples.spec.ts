import { EventConsumer, EventPublisher } from '../lib/index.js';
import { captureLogs } from './support/capture-logs.js';
import { startRedisServer, type RedisServer } from './support/redis-server.js';
import { waitFor } from './support/wait-for.js';

// The examples use the default stream `ai-pipeline:events` and `REDIS_URL`, so they run against a
// Redis server of their own instead of sharing a key on the common one.
describe('event bus README examples', () => {
  let server: RedisServer;
  let previousUrl: string | undefined;
  let logs: ReturnType<typeof captureLogs>;

  beforeAll(async () => {
    server = await startRedisServer();
    previousUrl = process.env['REDIS_URL'];
    process.env['REDIS_URL'] = server.url;
  });

  afterAll(async () => {
    process.env['REDIS_URL'] = previousUrl;
    await server.stop();
  });

  beforeEach(() => {
    logs = captureLogs();
  });

  afterEach(() => logs.restore());

  it('delivers the published topic to the script engine', async () => {
    const generated: Array<[string, string]> = [];
    const flagged: string[] = [];
    const scriptService = {
      generateForTopic: async (topicId: string, channelType: string) => {
        generated.push([topicId, channelType]);
      },
      flagHook: async (scriptId: string) => {
        flagged.push(scriptId);
      },
    };

    // Consume events (verbatim; the catalog types event.payload)
    const consumer = new EventConsumer('script-engine-group', 'script-engine-1');

    consumer.on('topic.approved', async (event) => {
      const { topicId, channelType } = event.payload;
      await scriptService.generateForTopic(topicId, channelType);
    });

    consumer.on('analytics.hook_weak', async (event) => {
      // Flag the script for hook revision
      await scriptService.flagHook(event.payload.scriptId);
    });

    await consumer.start();

    // Publish an event (verbatim)
    const publisher = new EventPublisher('topic-engine');

    // When a topic is approved:
    const result = await publisher.publish('topic.approved', {
      topicId: '123',
      title: 'How to Invest in ETFs',
      channelType: 'INTELLECTUAL',
      niche: 'finance',
      targetMarkets: ['US', 'DE', 'AU'],
      estimatedCPM: 32,
      hookIdeas: ['Fear of missing out', 'I lost $50k doing this'],
    });
    await publisher.publish('analytics.hook_weak', {
      scriptId: 'script-9',
      topicId: '123',
      retentionRate: 0.31,
      threshold: 0.5,
      hookWindowSeconds: 3,
    });

    await waitFor(() => generated.length === 1 && flagged.length === 1, { message: 'both handlers to run' });
    expect(generated).toEqual([['123', 'INTELLECTUAL']]);
    expect(flagged).toEqual(['script-9']);
    expect(result.eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.entryId).toMatch(/^\d+-\d+$/);

    await publisher.close();
    await consumer.stop();
  });
});
