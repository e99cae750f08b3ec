// Who may open what: the rules of a SelfSubjectRulesReview, evaluated here
// the way kube-apiserver's RBAC authorizer matches one rule (verbs, apiGroups,
// resources with "*" and "*/subresource", resourceNames). One review per
// namespace answers for every pod in it, so a namespace of 1000 pods costs
// one request, not 1000 access reviews. Pure: no DOM, no fetch.
//
// The page only hides or disables what it knows is refused. The server
// decides on every request anyway; a rule list it could not give (older
// podterm, a gateway whose cluster refuses reviews) or one marked incomplete
// (an authorizer that cannot list its rules) leaves the answer unknown, and
// unknown is shown as allowed.

export interface ResourceRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}

export interface RulesReview {
  resourceRules: ResourceRule[];
  /** The server's rules may not be all: a missing permission proves nothing. */
  incomplete: boolean;
}

export type Access = 'allowed' | 'denied' | 'unknown';

/** Opening a terminal: exec runs a command, attach joins the pod's own process. */
export type OpenKind = 'exec' | 'attach';

// podterm (like kube-apiserver >= 1.35 for WebSocket upgrades) checks
// `create` on pods/exec and pods/attach, and still accepts `get` for the
// policies written for older apiservers.
const OPEN_VERBS = ['create', 'get'];

function has(list: string[] | undefined, value: string): boolean {
  return !!list && (list.includes('*') || list.includes(value));
}

function resourceMatches(rule: ResourceRule, resource: string, subresource: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  return (rule.resources ?? []).some(
    (r) => r === '*' || r === combined || (subresource !== '' && r === `*/${subresource}`),
  );
}

/** One rule against one request, as rbac's RuleAllows. */
export function ruleAllows(
  rule: ResourceRule,
  verb: string,
  apiGroup: string,
  resource: string,
  subresource: string,
  name: string,
): boolean {
  if (!has(rule.verbs, verb) || !has(rule.apiGroups, apiGroup)) return false;
  if (!resourceMatches(rule, resource, subresource)) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(name);
}

/** May the reviewed user open a terminal (exec or attach) in pod `name`? */
export function mayOpen(review: RulesReview | null, kind: OpenKind, name: string): Access {
  if (!review) return 'unknown';
  const ok = review.resourceRules.some((rule) =>
    OPEN_VERBS.some((verb) => ruleAllows(rule, verb, '', 'pods', kind, name)),
  );
  if (ok) return 'allowed';
  return review.incomplete ? 'unknown' : 'denied';
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

/**
 * A SelfSubjectRulesReview answer, checked field by field: null when it is
 * not one (then nothing is known). A rule with a malformed field is dropped,
 * which can only deny, and marks the review incomplete, which turns that
 * denial back into unknown.
 */
export function parseRulesReview(body: unknown): RulesReview | null {
  const status = (body as { status?: unknown } | null)?.status as
    | { resourceRules?: unknown; incomplete?: unknown }
    | undefined;
  if (!status || typeof status !== 'object' || !Array.isArray(status.resourceRules)) return null;
  let incomplete = status.incomplete === true;
  const resourceRules: ResourceRule[] = [];
  for (const raw of status.resourceRules as unknown[]) {
    const r = raw as Record<string, unknown> | null;
    const ok =
      !!r &&
      typeof r === 'object' &&
      isStrings(r.verbs) &&
      (r.apiGroups === undefined || isStrings(r.apiGroups)) &&
      (r.resources === undefined || isStrings(r.resources)) &&
      (r.resourceNames === undefined || isStrings(r.resourceNames));
    if (!ok) {
      incomplete = true;
      continue;
    }
    resourceRules.push({
      verbs: r.verbs as string[],
      apiGroups: r.apiGroups as string[] | undefined,
      resources: r.resources as string[] | undefined,
      resourceNames: r.resourceNames as string[] | undefined,
    });
  }
  return { resourceRules, incomplete };
}
