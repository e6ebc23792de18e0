/** Says which databases the suites run on, so that a run without PostgreSQL never passes for a full one. */
export default function announceDatabases(): void {
  if (process.env.TEST_DATABASE_URL) {
    process.stdout.write('Suites run on the embedded database and on PostgreSQL (TEST_DATABASE_URL).\n');
  } else {
    process.stdout.write(
      'Suites run on the embedded database only: the PostgreSQL variants and the replica tests are not run. ' +
        'Set TEST_DATABASE_URL=postgres://... to run them too (CI does).\n',
    );
  }
}
