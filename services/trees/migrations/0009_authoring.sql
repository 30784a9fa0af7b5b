-- Authoring without fear (issue 27): a draft beside the live tree, reviews, history.

-- Whether publishing needs another engineer's approval of the exact draft revision.
alter table trees add column review_required boolean not null default false;
-- The last draft revision handed out for this tree: revisions never repeat, even after a draft is
-- discarded or published, so that an approval names one content for good.
alter table trees add column last_draft_revision integer not null default 0;

-- The draft of a tree: one at most, never seen by technicians. Its content is a tree as an author
-- sends it, kept as saved (it may still break the rules that publishing checks).
create table tree_drafts (
  tree_id uuid primary key references trees (id),
  revision integer not null,
  -- The version the draft was started from.
  based_on_version integer not null,
  title text not null,
  description text not null,
  category text not null,
  tags text[] not null,
  root_node_id text not null,
  nodes jsonb not null,
  saved_by uuid not null,
  saved_at timestamptz not null default now()
);

-- Reviews of a draft revision: an approval counts for that revision only.
create table tree_reviews (
  id bigserial primary key,
  tree_id uuid not null references trees (id),
  draft_revision integer not null,
  reviewer uuid not null,
  decision text not null check (decision in ('approve', 'request_changes')),
  comment text not null,
  reviewed_at timestamptz not null default now()
);
create index tree_reviews_revision on tree_reviews (tree_id, draft_revision);

-- Who did what to a tree, when: the author's change log.
create table tree_history (
  id bigserial primary key,
  tree_id uuid not null references trees (id),
  at timestamptz not null default now(),
  actor uuid not null,
  action text not null check (action in (
    'created', 'updated', 'draft_saved', 'draft_discarded', 'published', 'rolled_back',
    'approved', 'changes_requested', 'settings_changed', 'archived', 'restored', 'imported'
  )),
  version integer,
  draft_revision integer,
  note text not null default ''
);
create index tree_history_tree on tree_history (tree_id, id desc);
