// knip.json with an unused export or type in src/ an error: npm run lint fails on one, the rest of the tree warns.
import base from './knip.json' with { type: 'json' };

const EXPORT_ISSUES = ['exports', 'types', 'nsExports', 'nsTypes', 'enumMembers', 'duplicates'];

export default {
  ...base,
  rules: Object.fromEntries(EXPORT_ISSUES.map((issue) => [issue, 'error'])),
  ignoreIssues: Object.fromEntries(
    ['test/**', 'bench/**', 'console/**', 'client/**', 'scripts/**', 'bin/**'].map((path) => [
      path,
      EXPORT_ISSUES,
    ]),
  ),
};
