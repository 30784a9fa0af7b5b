-- Decision trees and their immutable versions, with full-text search.
create extension if not exists pg_trgm;

create table trees (
  id uuid primary key,
  created_by uuid not null,
  created_at timestamptz not null default now(),
  latest_version integer not null,
  -- The newest version whose status is published: what technicians see and sessions start on.
  published_version integer,
  deleted_at timestamptz
);

create table tree_versions (
  tree_id uuid not null references trees (id),
  version integer not null,
  title text not null,
  description text not null,
  category text not null,
  tags text[] not null,
  status text not null check (status in ('draft', 'published')),
  root_node_id text not null,
  change_note text not null,
  nodes jsonb not null,
  node_count integer not null,
  created_by uuid not null,
  created_at timestamptz not null default now(),
  -- Weighted: title A, tags and category B, description C, node titles and bodies D.
  search tsvector not null,
  primary key (tree_id, version)
);
create index tree_versions_search on tree_versions using gin (search);
create index tree_versions_category on tree_versions (category);
create index tree_versions_tags on tree_versions using gin (tags);

-- Every word that can be searched for, so that a misspelt query word can be corrected to the
-- nearest real one (trigram similarity).
create table search_words (
  word text primary key
);
create index search_words_trgm on search_words using gin (word gin_trgm_ops);
-- For "is this a prefix of a known word" (the last word typed).
create index search_words_prefix on search_words (word text_pattern_ops);
