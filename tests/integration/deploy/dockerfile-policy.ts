// Our Dockerfile rules, on top of dockerfile-utils' validator (hadolint is not packaged by Debian and
// ships as a prebuilt binary we cannot fetch; dockerfile-utils, the validator of the VS Code Docker
// extension, comes from npm). Each rule is a hadolint rule or a project decision; ids say which.
import { matchesGlob } from 'node:path';
import { DockerfileParser, type From, type Instruction } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';

export interface Finding {
  rule: string;
  line: number;
  message: string;
}

const SEVERITY_WARNING = 2;

/** dockerfile-utils with every optional check on (casing, deprecated MAINTAINER, relative WORKDIR...). */
export function lint(content: string): Finding[] {
  const all = { deprecatedMaintainer: SEVERITY_WARNING, directiveCasing: SEVERITY_WARNING, emptyContinuationLine: SEVERITY_WARNING, instructionCasing: SEVERITY_WARNING, instructionCmdMultiple: SEVERITY_WARNING, instructionEntrypointMultiple: SEVERITY_WARNING, instructionHealthcheckMultiple: SEVERITY_WARNING, instructionJSONInSingleQuotes: SEVERITY_WARNING, instructionWorkdirRelative: SEVERITY_WARNING };
  return validate(content, all as Parameters<typeof validate>[1]).map((d) => ({ rule: `dockerfile-utils:${String(d.code)}`, line: d.range.start.line + 1, message: typeof d.message === 'string' ? d.message : d.message.value }));
}

/** ARG defaults declared before the first FROM (the only ones a FROM may use). */
function globalArgs(instructions: Instruction[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const i of instructions) {
    if (i.getKeyword() === 'FROM') break;
    if (i.getKeyword() !== 'ARG') continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(\S+)$/.exec(i.getArgumentsContent() ?? '');
    if (m) out.set(m[1]!, m[2]!.replace(/^["']|["']$/g, ''));
  }
  return out;
}

const expand = (s: string, args: Map<string, string>) => s.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_w, n: string) => args.get(n) ?? `<unset ${n}>`);

export function policy(content: string): Finding[] {
  const df = DockerfileParser.parse(content);
  const instructions = df.getInstructions();
  const args = globalArgs(instructions);
  const froms: From[] = df.getFROMs();
  const findings: Finding[] = [];
  const at = (i: Instruction) => i.getRange().start.line + 1;
  const stages = new Set<string>();

  if (froms.length < 2) findings.push({ rule: 'multi-stage', line: 1, message: `${froms.length} FROM: build in one stage, run in another` });
  for (const f of froms) {
    const raw = f.getArgumentsContent()?.split(/\s+/)[0] ?? '';
    const image = expand(raw, args);
    if (stages.has(image)) {
      // FROM <earlier stage>
    } else if (/:latest(@|$)/.test(image) || !/:[^/]+$|@sha256:/.test(image)) {
      findings.push({ rule: 'DL3006/DL3007 pinned base', line: at(f), message: `base image ${image} is not pinned to a version tag` });
    } else if (!/@sha256:[0-9a-f]{64}$/.test(image) && !/:\d+\.\d+\.\d+/.test(image)) {
      findings.push({ rule: 'DL3006/DL3007 pinned base', line: at(f), message: `base image ${image}: pin a full x.y.z version (or a digest), not a moving tag` });
    } else if (image.startsWith('node:') && !/^node:24\.\d+\.\d+-[a-z]+-slim/.test(image)) {
      findings.push({ rule: 'node-24-slim', line: at(f), message: `base image ${image}: the project runs on Node 24, slim variant` });
    }
    const stage = f.getBuildStage();
    if (stage) stages.add(stage);
  }

  for (const i of instructions) {
    const kw = i.getKeyword();
    const text = i.getArgumentsContent() ?? '';
    if (kw === 'ADD' && /(https?|git|ftp):\/\//i.test(text)) findings.push({ rule: 'DL3020 no ADD of URLs', line: at(i), message: `ADD ${text}: fetch at build time is unpinned and unverified; COPY a checked-in file` });
    if (kw === 'ADD') findings.push({ rule: 'DL3020 COPY not ADD', line: at(i), message: 'use COPY for files' });
    if (kw === 'RUN' && /\bnpm\s+(install|i|add)\b/.test(text)) findings.push({ rule: 'npm ci', line: at(i), message: `RUN ${text}: use npm ci (the lock file decides, nothing is resolved at build time)` });
    if (kw === 'RUN' && /\bapt-get\s+install\b/.test(text) && !/--no-install-recommends/.test(text)) findings.push({ rule: 'DL3015', line: at(i), message: 'apt-get install without --no-install-recommends' });
    if (kw === 'RUN' && /\b(curl|wget)\b[^|]*\|\s*(sh|bash)\b/.test(text)) findings.push({ rule: 'DL4006 no curl|sh', line: at(i), message: 'piping a download into a shell' });
    if ((kw === 'ENTRYPOINT' || kw === 'CMD') && !text.trim().startsWith('[')) findings.push({ rule: 'DL3025 exec form', line: at(i), message: `${kw} in shell form: signals do not reach the process` });
    if (kw === 'RUN' && /\bsudo\b/.test(text)) findings.push({ rule: 'DL3004 no sudo', line: at(i), message: 'sudo in RUN' });
  }

  // The final stage: a non-root numeric USER, set after the last RUN.
  const last = froms[froms.length - 1];
  if (last) {
    const lastLine = last.getRange().start.line;
    const finalStage = instructions.filter((i) => i.getRange().start.line > lastLine);
    const users = finalStage.filter((i) => i.getKeyword() === 'USER');
    const user = users[users.length - 1];
    const runs = finalStage.filter((i) => i.getKeyword() === 'RUN');
    if (!user) findings.push({ rule: 'DL3002 non-root', line: at(last), message: 'the final stage has no USER: the container runs as root' });
    else {
      const u = (user.getArgumentsContent() ?? '').split(':')[0]!;
      if (!/^\d+$/.test(u) || u === '0') findings.push({ rule: 'DL3002 non-root', line: at(user), message: `USER ${u}: use a numeric non-zero uid (runAsNonRoot can only verify numbers)` });
      const lastRun = runs[runs.length - 1];
      if (lastRun && at(lastRun) > at(user)) findings.push({ rule: 'DL3002 non-root', line: at(lastRun), message: 'RUN after USER in the final stage' });
    }
    if (finalStage.some((i) => i.getKeyword() === 'RUN' && /\bnpm\s+ci\b/.test(i.getArgumentsContent() ?? ''))) {
      findings.push({ rule: 'production-only', line: at(last), message: 'npm ci in the final stage: install in a build stage and COPY --from' });
    }
  }
  // Production dependencies only: any npm ci whose node_modules reach the final stage must omit dev.
  for (const f of froms.slice(0, -1)) {
    const name = f.getBuildStage();
    if (!name || !new RegExp(`COPY\\s+--from=${name}\\s+\\S*node_modules`).test(content)) continue;
    const start = f.getRange().start.line;
    const next = froms.find((g) => g.getRange().start.line > start)?.getRange().start.line ?? Infinity;
    const ci = instructions.filter((i) => i.getKeyword() === 'RUN' && i.getRange().start.line > start && i.getRange().start.line < next && /\bnpm\s+ci\b/.test(i.getArgumentsContent() ?? ''));
    for (const i of ci) if (!/--omit=dev|--production/.test(i.getArgumentsContent() ?? '')) findings.push({ rule: 'production-only', line: at(i), message: `stage ${name} ships node_modules with dev dependencies (npm ci without --omit=dev)` });
  }
  return findings;
}

/** Whether .dockerignore keeps `path` out of the build context (Docker's rules: anchored at the
 * context root, a match on a parent directory excludes its contents, the last matching line wins,
 * `!` re-includes). */
export function ignoredByDockerignore(path: string, dockerignore: string): boolean {
  const rules = dockerignore
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => ({ negate: l.startsWith('!'), pattern: l.replace(/^!/, '').replace(/^\/+|\/+$/g, '') }));
  const parts = path.split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const r of rules) if (prefixes.some((p) => matchesGlob(p, r.pattern))) ignored = !r.negate;
  return ignored;
}

/** COPY sources from the build context (not --from a stage) that do not exist or that .dockerignore drops. */
export function missingCopySources(content: string, dockerignore: string, exists: (path: string) => boolean): Finding[] {
  const findings: Finding[] = [];
  for (const i of DockerfileParser.parse(content).getInstructions()) {
    if (i.getKeyword() !== 'COPY') continue;
    // The flags (--from, --chown...) are part of the line, not of getArgumentsContent().
    const args = i.getTextContent().replace(/^\s*COPY\s+/i, '').split(/\s+/).filter(Boolean);
    if (args.some((a) => a.startsWith('--from='))) continue;
    const sources = args.filter((a) => !a.startsWith('--')).slice(0, -1);
    for (const s of sources) {
      const path = s.replace(/^\.\//, '').replace(/\/$/, '');
      if (!exists(path)) findings.push({ rule: 'copy-source', line: i.getRange().start.line + 1, message: `COPY ${s}: not in the repository` });
      else if (ignoredByDockerignore(path, dockerignore)) findings.push({ rule: 'copy-source', line: i.getRange().start.line + 1, message: `COPY ${s}: excluded by .dockerignore` });
    }
  }
  return findings;
}
