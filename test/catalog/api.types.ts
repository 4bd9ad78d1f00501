// Compile-time checks of the public API against the catalog. This file is not a Jest spec:
// `tsc -p tsconfig.json --noEmit` compiles it, and every `@ts-expect-error` line must fail to
// compile, or tsc reports the directive as unused. Nothing here runs.
import type {
  EventConsumer,
  EventPublisher,
  IdempotencyGuard,
  MediaReadyPayload,
  RedisStreamsClient,
  TopicApprovedPayload,
} from '../../lib/index.js';

declare const publisher: EventPublisher;
declare const consumer: EventConsumer;
declare const client: RedisStreamsClient;
declare const guard: IdempotencyGuard;
declare function startLocalization(payload: MediaReadyPayload): Promise<void>;

const topic = {
  topicId: '123',
  title: 'How to Invest in ETFs',
  channelType: 'INTELLECTUAL',
  niche: 'finance',
  targetMarkets: ['US', 'DE', 'AU'],
  estimatedCPM: 32,
  hookIdeas: ['Fear of missing out', 'I lost $50k doing this'],
};

export async function checks(): Promise<void> {
  await publisher.publish('topic.approved', topic);
  client.emit('topic.approved', topic);

  // @ts-expect-error: an event name outside the catalog does not compile.
  await publisher.publish('topic.archived', topic);
  // @ts-expect-error: a payload field of the wrong type does not compile.
  await publisher.publish('topic.approved', { ...topic, estimatedCPM: '32' });
  // @ts-expect-error: a missing required field does not compile.
  await publisher.publish('topic.approved', { topicId: '123' });
  // @ts-expect-error: emit() is checked the same way.
  client.emit('topic.approved', { topicId: '123' });
  // @ts-expect-error: emit() rejects unknown names too.
  client.emit('topic.archived', topic);

  consumer.on('topic.approved', (event) => {
    // The handler's payload is the catalog class, without casts.
    const payload: TopicApprovedPayload = event.payload;
    const cpm: number = event.payload.estimatedCPM;
    void payload;
    void cpm;
    // @ts-expect-error: a field the payload class does not declare.
    void event.payload.scriptId;
  });
  consumer.on('analytics.hook_weak', (event) => {
    const scriptId: string = event.payload.scriptId;
    void scriptId;
  });
  // The README's idempotency example: the wrapped handler keeps the payload type.
  consumer.on(
    'media.ready',
    guard.wrap(async (event) => startLocalization(event.payload)),
  );

  // @ts-expect-error: a handler for an unknown name does not compile.
  consumer.on('topic.archived', () => undefined);
}
