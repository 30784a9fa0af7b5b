-- A refresh sent with an Idempotency-Key records the key's hash on the token it consumed, so a
-- retry with the same key and token gets the same child pair (kept in child_pair) instead of
-- counting as reuse.
alter table refresh_tokens add column idempotency_key_hash text;
