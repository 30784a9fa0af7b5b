import { inOrganization, type Sql, type TransactionSql } from "@tdt/kit";
import { UUID } from "../tree-store.js";
import type { ImageContentType, SanitisedImage } from "./sanitise.js";

/** An image as stored: the sanitised image, its id, and who put it when. */
export interface StoredImage extends SanitisedImage {
  id: string;
  createdAt: Date;
  createdBy: string;
}

/**
 * Each organization's images, addressed by their content: `put` of an image the organization
 * has already is that image's id again. An interface so that an object store can hold the bytes
 * instead of Postgres without a caller changing.
 */
export interface MediaStore {
  /** Stores `image` for `org` once; `created` is false when the organization had it already. */
  put(org: string, image: SanitisedImage, author: string): Promise<{ id: string; created: boolean }>;
  /** The image `id` of `org`, or undefined (an id of another organization is unknown here). */
  get(org: string, id: string): Promise<StoredImage | undefined>;
  /** Whether `org` holds an image of this SHA-256. */
  has(org: string, sha256: string): Promise<boolean>;
}

interface MediaRow {
  id: string;
  sha256: string;
  content_type: ImageContentType;
  width: number;
  height: number;
  bytes: Buffer;
  created_at: Date;
  created_by: string;
}

/** The `media` table (migrations/0011_media.sql), each call in a transaction of its organization. */
export class PostgresMediaStore implements MediaStore {
  constructor(private readonly sql: Sql) {}

  put(org: string, image: SanitisedImage, author: string): Promise<{ id: string; created: boolean }> {
    return inOrganization(this.sql, org, async (tx) => {
      // Racing puts of one image: one inserts, the others wait for it to commit and insert nothing.
      const [inserted] = await tx<{ id: string }[]>`
        insert into media (sha256, content_type, width, height, bytes, byte_length, created_by)
        values (${image.sha256}, ${image.contentType}, ${image.width}, ${image.height}, ${image.bytes},
          ${image.bytes.length}, ${author})
        on conflict (org_id, sha256) do nothing
        returning id`;
      if (inserted) return { id: inserted.id, created: true };
      // A statement of its own: it sees the row the winner committed, which the insert's snapshot did not.
      const existing = await idOf(tx, image.sha256);
      if (!existing) throw new Error(`media ${image.sha256} conflicted on insert but is not there`);
      return { id: existing, created: false };
    });
  }

  get(org: string, id: string): Promise<StoredImage | undefined> {
    if (!UUID.test(id)) return Promise.resolve(undefined);
    return inOrganization(this.sql, org, async (tx) => {
      const [row] = await tx<MediaRow[]>`
        select id, sha256, content_type, width, height, bytes, created_at, created_by from media where id = ${id}`;
      return row ? toStoredImage(row) : undefined;
    });
  }

  has(org: string, sha256: string): Promise<boolean> {
    return inOrganization(this.sql, org, async (tx) => (await idOf(tx, sha256)) !== undefined);
  }
}

async function idOf(tx: TransactionSql, sha256: string): Promise<string | undefined> {
  const [row] = await tx<{ id: string }[]>`select id from media where sha256 = ${sha256}`;
  return row?.id;
}

function toStoredImage(row: MediaRow): StoredImage {
  return {
    id: row.id,
    sha256: row.sha256,
    contentType: row.content_type,
    width: row.width,
    height: row.height,
    bytes: row.bytes,
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}
