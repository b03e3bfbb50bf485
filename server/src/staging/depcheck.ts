/*
 * The dependency check of a migration, by `dose-distcheck` (one wrapper, as for every external tool):
 * every binary package of the migrating source version must be installable — Depends and Pre-Depends,
 * conflicts and essential packages included — from the target suite (and the suites it migrates to)
 * together with the base distribution and its extra sources.
 *
 * The background is cut down to the dependency closure of the packages checked (plus every essential
 * package and what it needs) before dose reads it: whether a package can be installed depends on
 * nothing else, and dose then reads a few hundred stanzas instead of the mirror's sixty thousand.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';

/** One stanza of a Packages file, with what the closure needs. */
interface Entry {
  name: string;
  /** Every package name its Depends and Pre-Depends mention (alternatives included). */
  needs: string[];
  provides: string[];
  essential: boolean;
  source: string;
  sourceVersion: string;
  text: string;
}

const FIELD = /^(Package|Version|Source|Depends|Pre-Depends|Provides|Essential):[ \t]*(.*(?:\n[ \t].*)*)/gm;

/** Package names in a relationship field: `a (>= 1) | b:any, c [amd64] <!nocheck>` → a, b, c. */
export function relationNames(field: string): string[] {
  return field
    .split(/[,|]/)
    .map((alt) =>
      alt
        .trim()
        .split(/[\s([<]/)[0]!
        .replace(/:.*$/, ''),
    )
    .filter(Boolean);
}

/** The stanzas of a Packages file. */
export function parsePackages(text: string): Entry[] {
  const out: Entry[] = [];
  for (const raw of text.split(/\n[ \t]*\n/)) {
    const stanza = raw.trim();
    if (!stanza) continue;
    const f = new Map<string, string>();
    for (const m of stanza.matchAll(FIELD)) f.set(m[1]!, m[2]!.replace(/\n[ \t]+/g, ' ').trim());
    const name = f.get('Package');
    if (!name) continue;
    const version = f.get('Version') ?? '';
    // `Source: hello (1.0-1)` when the binary's version differs from the source's (a binNMU).
    const src = /^(\S+)(?:\s+\((.+)\))?$/.exec(f.get('Source') ?? '');
    out.push({
      name,
      needs: [...relationNames(f.get('Depends') ?? ''), ...relationNames(f.get('Pre-Depends') ?? '')],
      provides: relationNames(f.get('Provides') ?? ''),
      essential: f.get('Essential')?.toLowerCase() === 'yes',
      source: src?.[1] ?? name,
      sourceVersion: src?.[2] ?? version,
      text: stanza,
    });
  }
  return out;
}

/** The binary packages of `source` `version` in a Packages file, and the others. */
export function splitBySource(entries: Entry[], source: string, version?: string): [Entry[], Entry[]] {
  const mine: Entry[] = [];
  const others: Entry[] = [];
  for (const e of entries)
    (e.source === source && (version === undefined || e.sourceVersion === version) ? mine : others).push(e);
  return [mine, others];
}

/** What of `background` installing `foreground` (and the essential set) can ever touch. */
export function dependencyClosure(foreground: Entry[], background: Entry[]): Entry[] {
  const byName = new Map<string, Entry[]>();
  const add = (name: string, e: Entry) => byName.set(name, [...(byName.get(name) ?? []), e]);
  for (const e of background) {
    add(e.name, e);
    for (const p of e.provides) add(p, e);
  }
  const kept = new Set<Entry>();
  const queue: string[] = [...foreground.flatMap((e) => e.needs), ...foreground.map((e) => e.name)];
  for (const e of background.filter((b) => b.essential)) queue.push(e.name);
  const seen = new Set<string>();
  while (queue.length) {
    const name = queue.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    for (const e of byName.get(name) ?? []) {
      if (kept.has(e)) continue;
      kept.add(e);
      queue.push(...e.needs);
    }
  }
  return background.filter((e) => kept.has(e));
}

/** A binary package that could not be installed, and why. */
export interface BrokenPackage {
  package: string;
  version: string;
  architecture: string;
  /** What is missing or in conflict, for people: `hello-c`, `libfoo (>= 2) (needed by libbar 1)`. */
  reasons: string[];
  /** The package names of the unsatisfied dependencies (`hello-c`). */
  missing: string[];
}

/**
 * dose-distcheck's YAML report (`-f -e`): one entry per broken foreground package with its missing
 * dependencies and conflicts. Read line by line: dose writes a fixed layout.
 */
export function parseDoseReport(output: string, nativeArch: string): BrokenPackage[] {
  const body = output.split(/^report:[ \t]*$/m)[1];
  if (body === undefined) return [];
  const qualifier = new RegExp(`:(?:${nativeArch}|all|any)\\b`, 'g');
  const plain = (s: string) => s.replace(qualifier, '').trim();
  const broken: BrokenPackage[] = [];
  for (const item of body.split(/^ -[ \t]*$/m).slice(1)) {
    const head = (key: string) => new RegExp(`^  ${key}: (.*)$`, 'm').exec(item)?.[1]?.trim() ?? '';
    const entry: BrokenPackage = {
      package: head('package'),
      version: head('version'),
      architecture: head('architecture'),
      reasons: [],
      missing: [],
    };
    if (!entry.package) continue;
    let pkg = '';
    let version = '';
    // A conflict names its first side (with unsat-conflict), then `pkg2:` and the other side's package.
    let conflict: { who: string; what: string } | null = null;
    let secondSide = false;
    for (const line of item.split('\n')) {
      const m = /^\s+(package|version|unsat-dependency|unsat-conflict|pkg2):\s*(.*)$/.exec(line);
      if (!m) continue;
      const key = m[1]!;
      const value = m[2]!.trim();
      if (key === 'package') {
        pkg = value;
        if (secondSide) {
          if (conflict) entry.reasons.push(`${conflict.who} conflicts with ${pkg} (${conflict.what})`);
          conflict = null;
          secondSide = false;
        }
      } else if (key === 'version') version = value;
      else if (key === 'unsat-dependency') {
        const dep = plain(value);
        const name = relationNames(dep)[0] ?? dep;
        if (!entry.missing.includes(name)) entry.missing.push(name);
        entry.reasons.push(pkg === entry.package ? dep : `${dep} (needed by ${pkg} ${version})`);
      } else if (key === 'unsat-conflict') conflict = { who: `${pkg} ${version}`, what: plain(value) };
      else secondSide = true;
    }
    broken.push(entry);
  }
  return broken;
}

export interface DistcheckInput {
  /** dose's native architecture (`amd64`): arch-all packages are checked on it. */
  architecture: string;
  /** The packages that must be installable. */
  foreground: Entry[];
  /** Everything they may take their dependencies from. */
  background: Entry[];
  /** A private directory for dose's input files. */
  workDir: string;
}

export class DistcheckError extends Error {
  override readonly name = 'DistcheckError';
}

/** Runs dose-distcheck; returns the foreground packages that cannot be installed (none: []). */
export async function distcheck(input: DistcheckInput): Promise<BrokenPackage[]> {
  if (!input.foreground.length) return [];
  const background = dependencyClosure(input.foreground, input.background);
  await fs.mkdir(input.workDir, { recursive: true });
  const fg = path.join(input.workDir, 'foreground');
  const bg = path.join(input.workDir, 'background');
  const stanzas = (entries: Entry[]) => entries.map((e) => e.text + '\n').join('\n');
  await fs.writeFile(fg, stanzas(input.foreground));
  await fs.writeFile(bg, stanzas(background));
  const r = await execa(
    'dose-distcheck',
    [`--deb-native-arch=${input.architecture}`, '-f', '-e', '--fg', `deb://${fg}`, '--bg', `deb://${bg}`],
    { reject: false, stdin: 'ignore', env: { LC_ALL: 'C.UTF-8' }, timeout: 120_000 },
  );
  if (r.failed && r.exitCode === undefined) throw new DistcheckError(`dose-distcheck could not run: ${r.shortMessage}`);
  // 0: all installable; 1: some are not; anything else: dose itself failed.
  if (r.exitCode === 0) return [];
  if (r.exitCode !== 1)
    throw new DistcheckError(
      `dose-distcheck failed (exit ${r.exitCode}): ${String(r.stderr).trim().split('\n').slice(-3).join(' ')}`,
    );
  return parseDoseReport(String(r.stdout), input.architecture);
}

export type { Entry as PackagesEntry };
