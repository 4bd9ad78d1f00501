import { readFileSync } from 'node:fs';
import { withCatalogTable } from '../../scripts/update-readme-catalog.js';

describe('README catalog table', () => {
  it('matches the table generated from the code', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    // On failure, run `npm run docs:catalog` and commit README.md.
    expect(readme).toBe(withCatalogTable(readme));
  });
});
