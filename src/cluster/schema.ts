import { runProgram } from '../infra/exec';
import type { Postgres } from './postgres';
import { dbPassword, dbUser } from './postgres';

/** The two databases of a Temporal cluster on PostgreSQL, with their schema folders. */
export const clusterDatabases = [
  { name: 'temporal', schema: 'temporal' },
  { name: 'temporal_visibility', schema: 'visibility' },
] as const;

/**
 * Creates the databases on the first start (setup-schema at version 0.0, the schema tool's
 * versioning tables), then brings both up to the newest schema version of the server build
 * (update-schema: a no-op when current, the upgrade path when the server version moves on).
 */
export async function ensureSchemas(pg: Postgres, sqlTool: string, log: (line: string) => void): Promise<void> {
  for (const db of clusterDatabases) {
    const created = await pg.createDatabase(db.name);
    const base = [
      '--plugin',
      'postgres12',
      '--ep',
      '127.0.0.1',
      '-p',
      String(pg.options.port),
      '-u',
      dbUser,
      '--pw',
      dbPassword,
      '--db',
      db.name,
    ];
    const versioned =
      (await pg.sql(db.name, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'")) ===
      '1';
    if (!versioned) {
      log(`${created ? 'Created' : 'Found'} database ${db.name}; setting up its schema...`);
      await runProgram(sqlTool, [...base, 'setup-schema', '-v', '0.0']);
    }
    // The schemas of the server module, embedded in the tool (same files docker-compose's schema job uses).
    await runProgram(sqlTool, [...base, 'update-schema', '--schema-name', `postgresql/v12/${db.schema}`]);
  }
}

/** The schema version a database is at (schema_version table of temporal-sql-tool). */
export async function schemaVersion(pg: Postgres, database: string): Promise<string> {
  return pg.sql(database, 'SELECT curr_version FROM schema_version LIMIT 1');
}
