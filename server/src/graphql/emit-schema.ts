import fs from 'node:fs/promises';
import { printSchema } from 'graphql';
import { buildDebyardSchema } from './schema.js';

/** The committed `schema.graphql` is exactly this text; a test fails when they differ. */
export async function schemaText(): Promise<string> {
  return printSchema(await buildDebyardSchema()) + '\n';
}

export async function emitSchema(file: string): Promise<void> {
  await fs.writeFile(file, await schemaText());
}
