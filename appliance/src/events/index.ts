// Events upstream: CloudEvents envelopes, the durable outbox, sinks (webhook, MQTT), the dispatcher,
// aggregates, DATEX II export and the live feed. The app only needs createEventPipeline().
export { toCloudEvent, cloudEventSchema, eventJsonSchemas, eventSource, schemaPath, CloudEventBody, isCloudEvent } from './cloudevent.js';
export { UlidGenerator, ulidTime } from './ids.js';
export { Outbox, OutboxWriteError, InvalidCursorError, type OutboxOptions, type StoredEvent, type EventFilter, type QueryPage, type DeadLetter, type RetentionPolicy } from './outbox.js';
export { backoffDelay } from '../core/backoff.js';
export { Dispatcher, DEFAULT_BACKOFF, type DispatcherOptions, type BackoffOptions, type SinkStatus } from './dispatcher.js';
export { type EventSink, RetryableDeliveryError, PoisonBatchError } from './sinks/types.js';
export { WebhookSink, signBody, idempotencyKey, parseRetryAfter, CE_BATCH_CONTENT_TYPE, type WebhookSinkOptions } from './sinks/webhook.js';
export { MqttSink, mqttTopic, type MqttSinkOptions } from './sinks/mqtt.js';
export { NatsSink, natsSubject, subjectToken, type NatsSinkOptions } from './sinks/nats.js';
export { createEventPipeline, sinksFromConfig, type EventPipeline, type EventPipelineOptions } from './pipeline.js';
export { aggregateCounts, CountAggregator, type CountsFilter, type CountRow, type CountsResult } from './counts.js';
export { LaneIntervalSelector, LanesQuery, LanesBody } from './lanes-query.js';
export * from './datex.js';
export { LiveFeed, resumePoint, sseEvent, type FeedSource, type FeedOutput, type LiveFeedOptions } from './live-feed.js';
export { latestPerSite, selectMeasuredData, measurementSiteKey, type IntervalEvent, type MeasuredDataSelection } from './latest-per-site.js';
