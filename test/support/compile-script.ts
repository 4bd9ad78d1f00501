/**
 * Compiles a TypeScript entry point for a child process.
 *
 * Node cannot run a TypeScript file directly, and dist/ may be stale or rebuilt by someone
 * else halfway through a run. So tsc compiles the entry and the sources it imports into a
 * private folder under the OS temp folder, named after a hash of those sources. A run with
 * unchanged sources reuses it, and the child always runs the same code as the in-process
 * tests. The build skips type checking (`noCheck`) because `npm test` type-checks the same
 * files. It took about 2 s on a 2-core machine. Two runs that build at once each compile into
 * a folder of their own and rename it into place, so neither loads a half-written build.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPOSITORY_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUILD_TIMEOUT_MS = 60_000;

/**
 * Returns the path of the compiled entry, compiling it when its sources changed.
 *
 * @param entry the entry point, relative to the repository root, such as `sample/main.ts`
 * @param sourceDirs folders whose `.ts` files the entry imports, relative to the repository root
 */
export function compileScript(entry: string, sourceDirs: readonly string[]): string {
  const entrySource = path.join(REPOSITORY_ROOT, entry);
  const name = path.basename(entry, '.ts');
  const buildDir = path.join(os.tmpdir(), `events-${name}-${sourceHash(entrySource, sourceDirs)}`);
  const script = path.join(buildDir, entry.replace(/\.ts$/, '.js'));
  if (existsSync(script)) {
    return script;
  }

  const stagingDir = mkdtempSync(path.join(os.tmpdir(), `events-${name}-build-`));
  const tsconfig = {
    extends: path.join(REPOSITORY_ROOT, 'tsconfig.json'),
    compilerOptions: {
      rootDir: REPOSITORY_ROOT,
      outDir: stagingDir,
      noCheck: true,
      declaration: false,
      sourceMap: false,
      types: [],
    },
    files: [entrySource],
    include: [],
  };
  const tsconfigPath = path.join(stagingDir, `tsconfig.${name}.json`);
  writeFileSync(tsconfigPath, JSON.stringify(tsconfig));
  try {
    execFileSync(process.execPath, [path.join(REPOSITORY_ROOT, 'node_modules/typescript/bin/tsc'), '-p', tsconfigPath], {
      cwd: REPOSITORY_ROOT,
      timeout: BUILD_TIMEOUT_MS,
      stdio: 'pipe',
    });
  } catch (error) {
    rmSync(stagingDir, { recursive: true, force: true });
    const output = error instanceof Error && 'stdout' in error ? String(error.stdout) : '';
    throw new Error(`Failed to compile ${entrySource} with tsc: ${error instanceof Error ? error.message : String(error)}\n${output}`);
  }
  // The compiled files are ES modules and import packages by name, so they need the package
  // type and the repository's node_modules next to them.
  writeFileSync(path.join(stagingDir, 'package.json'), JSON.stringify({ type: 'module' }));
  symlinkSync(path.join(REPOSITORY_ROOT, 'node_modules'), path.join(stagingDir, 'node_modules'), 'dir');

  try {
    renameSync(stagingDir, buildDir);
  } catch (error) {
    // Another run renamed an identical build into place first.
    rmSync(stagingDir, { recursive: true, force: true });
    if (!existsSync(script)) {
      throw error;
    }
  }
  return script;
}

/** Hashes the entry, every source in the given folders and the tsconfig, which together decide the build. */
function sourceHash(entrySource: string, sourceDirs: readonly string[]): string {
  const hash = createHash('sha256');
  const files = [
    entrySource,
    path.join(REPOSITORY_ROOT, 'tsconfig.json'),
    ...sourceDirs.flatMap((dir) => listTypeScript(path.join(REPOSITORY_ROOT, dir))),
  ];
  for (const file of files) {
    hash.update(file).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

function listTypeScript(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        return listTypeScript(full);
      }
      return entry.name.endsWith('.ts') ? [full] : [];
    })
    .sort();
}
