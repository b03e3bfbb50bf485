#!/usr/bin/env node
// Generates client/src/gql/schema.ts, the TypeScript types of the committed schema.graphql, with GraphQL Code
// Generator's typescript plugin. Offline: it reads the schema file only. The drift test
// (tests/static/generated-drift.test.ts) calls generateSchemaTypes() and compares with the committed file.
//
//   node client/scripts/codegen.mjs     (or npm run codegen -w client)
import fs from 'node:fs/promises';
import { codegen } from '@graphql-codegen/core';
import * as typescript from '@graphql-codegen/typescript';
import { buildSchema, parse, printSchema } from 'graphql';

export const SCHEMA_FILE = new URL('../../schema.graphql', import.meta.url);
export const TYPES_FILE = new URL('../src/gql/schema.ts', import.meta.url);

const HEADER =
  '// Generated from schema.graphql by client/scripts/codegen.mjs (npm run codegen -w client). Do not edit.\n\n';

/** The TypeScript types of a schema in SDL, as schema.ts holds them. */
export async function generateSchemaTypes(sdl) {
  const schema = buildSchema(sdl);
  const output = await codegen({
    filename: 'schema.ts',
    schema: parse(printSchema(schema)),
    schemaAst: schema,
    documents: [],
    plugins: [{ typescript: {} }],
    pluginMap: { typescript },
    config: {
      // The console compares and lists enum values as strings; unions need no runtime object.
      enumsAsTypes: true,
      // Wire values: timestamps arrive as ISO strings, JSON as parsed values.
      scalars: {
        DateTimeISO: 'string',
        JSON: 'unknown',
        JSONObject: 'Record<string, unknown>',
      },
      // A nullable output field is always present (null when empty), never left out.
      avoidOptionals: { field: true, inputValue: false, object: true, defaultValue: false },
      maybeValue: 'T | null',
      inputMaybeValue: 'T | null | undefined',
      skipTypename: true,
      useTypeImports: true,
    },
  });
  return HEADER + output;
}

if (process.argv[1] && new URL(import.meta.url).pathname === (await fs.realpath(process.argv[1]))) {
  const sdl = await fs.readFile(SCHEMA_FILE, 'utf8');
  await fs.mkdir(new URL('.', TYPES_FILE), { recursive: true });
  await fs.writeFile(TYPES_FILE, await generateSchemaTypes(sdl));
  console.log(`wrote ${TYPES_FILE.pathname}`);
}
