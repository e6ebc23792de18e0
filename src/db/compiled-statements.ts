// Statements compiled once per shape with named placeholders, each run binding its own values into them.
import {
  CompiledQuery,
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryExecutorProvider,
  type RawBuilder,
  sql,
} from 'kysely';

/*
 * Building and compiling a Kysely query on every request costs more CPU than reading a page's rows
 * (docs/paging.md). A statement whose SQL depends only on a few choices (its shape) is compiled once per shape with
 * a placeholder where each run's value goes; a run then only puts its values in their places.
 */

/** What a placeholder leaves among a compiled statement's parameters: the name of the value that goes there. */
class Placeholder {
  constructor(readonly name: string) {}
}

/**
 * An expression that stands for the value named `name` while a statement is compiled once (CompiledStatement.bind
 * puts each run's value in its place). It fits wherever a Kysely query takes an expression of type T; the same
 * name may stand in several places, each taking the same value.
 */
export function placeholder<T>(name: string): RawBuilder<T> {
  return sql<T>`${new Placeholder(name)}`;
}

/** A run's values by placeholder name. An undefined value is no value: SQL's NULL is `null`. */
type StatementValues = Readonly<Record<string, unknown>>;

/** What can be compiled into a statement: a Kysely query builder or an `sql` template. */
interface Statement<R> {
  compile(executorProvider: QueryExecutorProvider): CompiledQuery<R>;
}

/** A statement compiled with placeholders: its SQL, and which value each of its parameters takes. */
export class CompiledStatement<R, V extends StatementValues = StatementValues> {
  readonly sql: string;
  /** The placeholder of each parameter, `$1` first. */
  readonly names: readonly string[];
  readonly #named: ReadonlySet<string>;

  constructor(compiled: CompiledQuery<R>) {
    this.sql = compiled.sql;
    // Every value comes from a placeholder, so that the SQL says all that a shape fixes and a run can change
    // nothing else.
    this.names = compiled.parameters.map((parameter, index) => {
      if (parameter instanceof Placeholder) return parameter.name;
      throw new Error(
        `Parameter $${index + 1} of a compiled statement is a constant, not a placeholder: write it into the SQL (sql.lit) or name it`,
      );
    });
    this.#named = new Set(this.names);
  }

  /** The statement with `values` in their placeholders' places; refuses a value missing or one without a place. */
  bind(values: V): CompiledQuery<R> {
    for (const name in values) {
      if (values[name] !== undefined && !this.#named.has(name)) {
        throw new Error(`The statement has no placeholder "${name}"`);
      }
    }
    const parameters = this.names.map((name) => {
      const value = values[name];
      if (value === undefined) throw new Error(`No value for the placeholder "${name}"`);
      return value;
    });
    return CompiledQuery.raw(this.sql, parameters) as CompiledQuery<R>;
  }
}

/**
 * The statements of one kind, each compiled the first time its shape is asked for. `keyOf` names a shape (equal
 * names, the same SQL); `build` writes the statement of a shape with placeholders for its values.
 */
export class StatementsByShape<DB, S, R, V extends StatementValues = StatementValues> {
  readonly #compiled = new Map<string, CompiledStatement<R, V>>();

  constructor(
    private readonly keyOf: (shape: S) => string,
    private readonly build: (shape: S, db: Kysely<DB>) => Statement<R>,
  ) {}

  /**
   * The statement of `shape`, built and compiled by `db` the first time. Every database here (PostgreSQL, PGlite)
   * compiles PostgreSQL, so one compilation serves them all.
   */
  get(db: Kysely<DB>, shape: S): CompiledStatement<R, V> {
    const key = this.keyOf(shape);
    let statement = this.#compiled.get(key);
    if (!statement) {
      statement = new CompiledStatement<R, V>(this.build(shape, db).compile(db));
      this.#compiled.set(key, statement);
    }
    return statement;
  }
}

/** A Kysely that compiles PostgreSQL without a database: for writing statements out (`npm run sql:generate`). */
export function offlineCompiler<Tables>(): Kysely<Tables> {
  return new Kysely<Tables>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
}
