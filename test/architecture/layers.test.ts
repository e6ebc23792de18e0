import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/*
 * The rules under test (docs/design.md, "Layers"): every unit of src/ — a folder, or a file directly in src/ —
 * depends on others one way. No two units import each other, directly or through others; type-only imports count.
 * And no two files of src/ import values from each other, directly or through others: ES modules evaluate an
 * import cycle in some order, and the first to run reads the other's bindings before they are initialized.
 */

const SRC = fileURLToPath(new URL('../../src', import.meta.url));
const CONSOLE = fileURLToPath(new URL('../../console/src', import.meta.url));

function sourceFiles(directory: string): string[] {
  return fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.tsx?$/.test(entry.name) ? [full] : [];
  });
}

/** The unit of a file: its first folder under src/, or the file's own name when it sits directly in src/. */
function unitOf(file: string): string {
  const [first, ...rest] = path.relative(SRC, file).split(path.sep);
  return rest.length === 0 ? (first ?? '') : `${first}/`;
}

/** Every unit a unit imports (static, dynamic and type-only imports, and re-exports), as TypeScript reads them. */
function unitGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sourceFiles(SRC)) {
    const from = unitOf(file);
    const targets = graph.get(from) ?? new Set<string>();
    graph.set(from, targets);
    const { importedFiles } = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const target = path.resolve(path.dirname(file), fileName.replace(/\.js$/, '.ts'));
      const to = unitOf(target);
      if (to !== from) targets.add(to);
    }
  }
  return graph;
}

/** The file an import specifier names, when it names a file of src/ (relative, `.js` standing for `.ts`). */
function importedSourceFile(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), specifier).replace(/\.js$/, '');
  return ['.ts', '.tsx'].map((extension) => base + extension).find((file) => fs.existsSync(file));
}

/**
 * Every file of src/ a file loads when it is loaded: its static imports and re-exports, but not `import type` or
 * `export type`, which the compiler erases and so never load a module; a cycle of those is harmless at run time.
 * An import of type-only names written `import { type X } from` does count: under `verbatimModuleSyntax` it is
 * emitted as `import {} from`, which still loads the module. A dynamic `import()` loads its module only when it
 * runs, after every module has been evaluated, so it makes no load-time edge.
 */
function valueImportGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sourceFiles(SRC)) {
    const targets = new Set<string>();
    graph.set(path.relative(SRC, file), targets);
    const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
    for (const statement of source.statements) {
      const loads =
        (ts.isImportDeclaration(statement) && !statement.importClause?.isTypeOnly) ||
        (ts.isExportDeclaration(statement) &&
          !statement.isTypeOnly &&
          statement.moduleSpecifier !== undefined);
      if (!loads) continue;
      const specifier = statement.moduleSpecifier;
      if (!specifier || !ts.isStringLiteral(specifier)) continue;
      const target = importedSourceFile(file, specifier.text);
      if (target) targets.add(path.relative(SRC, target));
    }
  }
  return graph;
}

/** The units of each import cycle (strongly connected components of more than one unit, Tarjan's algorithm). */
function cycles(graph: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (unit: string) => {
    index.set(unit, index.size);
    low.set(unit, index.get(unit) as number);
    stack.push(unit);
    onStack.add(unit);
    for (const next of graph.get(unit) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(unit, Math.min(low.get(unit) as number, low.get(next) as number));
      } else if (onStack.has(next)) {
        low.set(unit, Math.min(low.get(unit) as number, index.get(next) as number));
      }
    }
    if (low.get(unit) === index.get(unit)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== unit);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const unit of graph.keys()) if (!index.has(unit)) visit(unit);
  return found;
}

describe('layers of src/', () => {
  const graph = unitGraph();

  it('no two units of src/ import each other, directly or through others', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('no two files of src/ import values from each other, directly or through others (type-only imports aside)', () => {
    expect(cycles(valueImportGraph())).toEqual([]);
  });

  it('finds the value imports it checks, and leaves type-only ones out', () => {
    const files = valueImportGraph();
    expect(files.get('main.ts')?.has('http/app.ts')).toBe(true);
    // `import type { Db }` only: erased by the compiler, so no load-time edge.
    expect(files.get('effects/worker.ts')?.has('db/database.ts')).toBe(false);
  });

  it('no unit imports http/, the top: only the composition root (main.ts) and the CLI (cli.ts) reach it', () => {
    const importers = [...graph].filter(([, targets]) => targets.has('http/')).map(([unit]) => unit);
    expect(importers.sort()).toEqual(['cli.ts', 'main.ts']);
  });

  it('the outbox imports only the database and the kernel: events/ enqueues through it, effects/ builds on it', () => {
    const below = new Set(['db/', 'kernel/']);
    expect([...(graph.get('outbox/') ?? [])].filter((unit) => !below.has(unit))).toEqual([]);
    expect(graph.get('events/')?.has('outbox/')).toBe(true);
    expect(graph.get('effects/')?.has('outbox/')).toBe(true);
  });

  it('the shared kernel imports no other unit', () => {
    expect([...(graph.get('kernel/') ?? [])]).toEqual([]);
  });

  it("the routes' HTTP helpers (routing/) import only the kernel, so every feature may use them", () => {
    expect([...(graph.get('routing/') ?? [])]).toEqual(['kernel/']);
  });

  it('finds the imports it checks (a unit graph read from nothing would pass anything)', () => {
    expect(graph.get('http/')?.has('salesreps/')).toBe(true);
    expect(graph.get('salesreps/')?.has('kernel/')).toBe(true);
    expect(graph.get('salesreps/')?.has('routing/')).toBe(true);
  });
});

describe('the console (console/src/)', () => {
  it('reaches the service only through the API: it imports the typed client (client/) and nothing of src/', () => {
    const reached = new Set<string>();
    for (const file of sourceFiles(CONSOLE)) {
      for (const { fileName } of ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true).importedFiles) {
        if (!fileName.startsWith('.')) continue;
        const target = path
          .relative(path.join(CONSOLE, '../..'), path.resolve(path.dirname(file), fileName))
          .replace(/\.js$/, '');
        reached.add(target.split(path.sep)[0] === 'console' ? 'console/' : target);
      }
    }
    expect([...reached].sort()).toEqual(['client/index', 'console/']);
  });
});
