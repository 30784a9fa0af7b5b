/**
 * Databases of one test run: each gets a unique name on the server of DATABASE_URL, so runs
 * and files never share state, and is dropped afterwards.
 */
import { randomBytes } from "node:crypto";
import postgres, { type Sql } from "postgres";

export const SERVER_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export function uniqueName(label: string): string {
  return `tdt_test_${label}_${randomBytes(4).toString("hex")}`;
}

export function urlOf(database: string): string {
  const url = new URL(SERVER_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

export async function createDatabase(label: string): Promise<{ name: string; url: string }> {
  const name = uniqueName(label);
  const admin = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  return { name, url: urlOf(name) };
}

export async function dropDatabase(name: string): Promise<void> {
  const admin = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
  } finally {
    await admin.end();
  }
}

export function connect(url: string): Sql {
  return postgres(url, { max: 5, onnotice: () => {} });
}
