// Statements on the TEST_DATABASE_URL server itself: creating and dropping the tests' databases.
import pg from 'pg';

/** Runs one statement on the server's maintenance connection (TEST_DATABASE_URL's own database). */
export async function onServer(serverUrl: string, statement: string): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(statement);
  } finally {
    await admin.end();
  }
}
