-- Images on nodes (issue 30, docs/decisions/logic-forms-media-languages.md): each organization's
-- images, sanitised (src/media/sanitise.ts) and stored by the SHA-256 of their bytes, so identical
-- uploads in one organization are one row. Walled off by organization like every tenant table
-- (0010_organizations.sql): trees_app sees and writes only its transaction's organization's.

create table media (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null default tdt_current_org(),
  sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  content_type text not null check (content_type in ('image/png', 'image/jpeg', 'image/webp')),
  width integer not null check (width between 1 and 4096),
  height integer not null check (height between 1 and 4096),
  bytes bytea not null,
  byte_length integer not null check (byte_length > 0 and byte_length = octet_length(bytes)),
  created_at timestamptz not null default now(),
  created_by uuid not null,
  -- The address: one row per image per organization (the same image in two is two rows, each
  -- behind its own wall). Puts race on it with `on conflict do nothing`.
  unique (org_id, sha256)
);

-- Kept out of line and uncompressed: PNG, JPEG and WebP are compressed already, so TOAST's own
-- compression would spend time on every write for nothing.
alter table media alter column bytes set storage external;

select tdt_org_wall('media', 'trees_app');
-- An image never changes under its id (it is served as immutable, its SHA-256 its ETag): the
-- service may add and remove images, never rewrite one.
revoke update on media from trees_app;
