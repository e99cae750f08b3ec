// web/src/access.ts on its own (no browser): a rules review's rules matched as
// kube-apiserver's RBAC matches them, for exec and for attach, and what a
// review that is not one turns into. The module is compiled by the same
// esbuild the UI build uses.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { root } from './harness.mjs';

let access;

before(async () => {
  const esbuild = createRequire(join(root, 'web/package.json'))('esbuild');
  const out = await esbuild.build({
    entryPoints: [join(root, 'web/src/access.ts')],
    bundle: true,
    format: 'esm',
    write: false,
    logLevel: 'silent',
  });
  const code = out.outputFiles[0].text;
  access = await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
});

const review = (resourceRules, incomplete = false) => ({ resourceRules, incomplete });

describe('access.ts', () => {
  test('ruleAllows: verbs, apiGroups, resources and resourceNames as RBAC matches them', () => {
    const { ruleAllows } = access;
    const cases = [
      // [rule, verb, group, resource, subresource, name, expected]
      [{ verbs: ['create'], apiGroups: [''], resources: ['pods/exec'] }, 'create', '', 'pods', 'exec', 'p', true],
      [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, 'create', '', 'pods', 'exec', 'p', true],
      [{ verbs: ['create'], apiGroups: [''], resources: ['*/exec'] }, 'create', '', 'pods', 'exec', 'p', true],
      [{ verbs: ['create'], apiGroups: [''], resources: ['*/exec'] }, 'create', '', 'pods', 'attach', 'p', false],
      [{ verbs: ['create'], apiGroups: [''], resources: ['*/exec'] }, 'create', '', 'pods', '', 'p', false],
      [{ verbs: ['create'], apiGroups: [''], resources: ['pods'] }, 'create', '', 'pods', 'exec', 'p', false],
      [{ verbs: ['create'], apiGroups: [''], resources: ['pods/*'] }, 'create', '', 'pods', 'exec', 'p', false],
      [{ verbs: ['get'], apiGroups: [''], resources: ['pods/exec'] }, 'create', '', 'pods', 'exec', 'p', false],
      [{ verbs: ['create'], apiGroups: ['apps'], resources: ['pods/exec'] }, 'create', '', 'pods', 'exec', 'p', false],
      [{ verbs: ['create'], resources: ['pods/exec'] }, 'create', '', 'pods', 'exec', 'p', false], // no apiGroups
      [{ verbs: [], apiGroups: [''], resources: ['pods/exec'] }, 'create', '', 'pods', 'exec', 'p', false],
      [{ verbs: ['create'], apiGroups: [''], resources: ['pods/exec'], resourceNames: ['p'] }, 'create', '', 'pods', 'exec', 'p', true],
      [{ verbs: ['create'], apiGroups: [''], resources: ['pods/exec'], resourceNames: ['q'] }, 'create', '', 'pods', 'exec', 'p', false],
      [{ verbs: ['create'], apiGroups: [''], resources: ['pods/exec'], resourceNames: [] }, 'create', '', 'pods', 'exec', 'p', true],
      [{ verbs: ['CREATE'], apiGroups: [''], resources: ['PODS/EXEC'] }, 'create', '', 'pods', 'exec', 'p', false],
    ];
    for (const [rule, verb, group, res, sub, name, want] of cases) {
      assert.equal(ruleAllows(rule, verb, group, res, sub, name), want, JSON.stringify([rule, verb, res, sub, name]));
    }
  });

  test('mayOpen: create or get on the subresource, exec and attach apart; incomplete and null are unknown', () => {
    const { mayOpen } = access;
    const execOnly = review([{ verbs: ['create'], apiGroups: [''], resources: ['pods/exec'] }]);
    const attachGet = review([{ verbs: ['get'], apiGroups: [''], resources: ['pods/attach'], resourceNames: ['a'] }]);
    assert.equal(mayOpen(execOnly, 'exec', 'x'), 'allowed');
    assert.equal(mayOpen(execOnly, 'attach', 'x'), 'denied');
    assert.equal(mayOpen(attachGet, 'attach', 'a'), 'allowed');
    assert.equal(mayOpen(attachGet, 'attach', 'b'), 'denied');
    assert.equal(mayOpen(attachGet, 'exec', 'a'), 'denied');
    assert.equal(mayOpen(review([], true), 'exec', 'a'), 'unknown');
    assert.equal(mayOpen(review(execOnly.resourceRules, true), 'exec', 'a'), 'allowed');
    assert.equal(mayOpen(null, 'attach', 'a'), 'unknown');
    assert.equal(mayOpen(review([{ verbs: ['list', 'watch', 'update'], apiGroups: [''], resources: ['pods/exec'] }]), 'exec', 'a'), 'denied');
  });

  test('parseRulesReview: a review, or null; a malformed rule is dropped and makes the review incomplete', () => {
    const { parseRulesReview } = access;
    const rule = { verbs: ['create'], apiGroups: [''], resources: ['pods/exec'], resourceNames: ['p'] };
    assert.deepEqual(parseRulesReview({ status: { resourceRules: [rule], incomplete: false } }), review([rule]));
    assert.deepEqual(parseRulesReview({ status: { resourceRules: [] } }), review([]));
    for (const bad of [null, 'x', 7, {}, { status: null }, { status: {} }, { status: { resourceRules: {} } }]) {
      assert.equal(parseRulesReview(bad), null, JSON.stringify(bad));
    }
    for (const broken of [null, 'x', { verbs: 'create' }, { verbs: ['create'], resources: 'pods/exec' },
      { verbs: ['create'], apiGroups: [7] }, { verbs: ['create'], resourceNames: [null] }]) {
      assert.deepEqual(parseRulesReview({ status: { resourceRules: [broken, rule] } }), review([rule], true),
        JSON.stringify(broken));
    }
  });
});
