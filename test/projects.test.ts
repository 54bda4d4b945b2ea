// The two test projects of vitest.config.ts split the suite: every test file on disk runs in
// exactly one of 'unit' (npm test) and 'e2e' (npm run test:e2e), as vitest itself resolves them,
// so that a new file cannot silently run in neither (or twice in CI), and the e2e list names
// no file that is gone.
import { describe, it, expect } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { createVitest } from 'vitest/node';
import { E2E_FILES } from '../vitest.config.js';

const ROOT = resolve(import.meta.dirname, '..');

describe('test projects', () => {
  it('every test file belongs to exactly one project, and the e2e list names existing files', async () => {
    const onDisk = readdirSync(join(ROOT, 'test'), { recursive: true, encoding: 'utf8' })
      .filter((name) => /\.(test|spec)\.[cm]?[jt]sx?$/.test(name) && !name.split(/[\\/]/).includes('node_modules'))
      .map((name) => `test/${name.replaceAll('\\', '/')}`)
      .sort();
    for (const file of E2E_FILES) expect(existsSync(join(ROOT, file)), file).toBe(true);

    const vitest = await createVitest('test', { root: ROOT, watch: false, reporters: [] });
    try {
      const projects = new Map<string, string[]>();
      for (const spec of await vitest.globTestSpecifications()) {
        const file = relative(ROOT, spec.moduleId).replaceAll('\\', '/');
        projects.set(file, [...(projects.get(file) ?? []), spec.project.name]);
      }
      expect([...projects.keys()].sort()).toEqual(onDisk);
      for (const [file, names] of projects) expect(names, file).toHaveLength(1);
      const e2e = [...projects].filter(([, names]) => names[0] === 'e2e').map(([file]) => file);
      expect(e2e.sort()).toEqual([...E2E_FILES].sort());
      expect(projects.size - e2e.length).toBeGreaterThan(20);
    } finally {
      await vitest.close();
    }
  });
});
