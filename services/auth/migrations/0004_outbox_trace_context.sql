-- The trace context (W3C traceparent) of the change that wrote an event, sent with it as a NATS
-- header so that a consumer's span links to the change (issue 13). Null when tracing is off.
alter table outbox add column trace_context text;
