-- The language a session runs and reports in (issue 30): one its tree's version is translated
-- into, or the tree's own. Sessions started before have none: their tree's own.
alter table sessions add column locale text not null default '';
