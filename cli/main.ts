#!/usr/bin/env node
// The `softmode` command. Each subcommand lives in cli/commands/<name>.ts and exports
// `run(argv: string[]): Promise<number>` (the exit code) and `summary: string`.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

function commandNames(): string[] {
  return readdirSync(join(here, 'commands'))
    .filter((f) => f.endsWith('.js'))
    .map((f) => f.slice(0, -3))
    .sort();
}

async function load(name: string): Promise<Command> {
  return (await import(`./commands/${name}.js`)) as Command;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const names = commandNames();
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log('usage: softmode <command> [options]\n\ncommands:');
    for (const n of names) console.log(`  ${n.padEnd(14)} ${(await load(n)).summary}`);
    return name ? 0 : 2;
  }
  if (!names.includes(name)) {
    console.error(`softmode: unknown command '${name}' (try: softmode --help)`);
    return 2;
  }
  return (await load(name)).run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(e instanceof Error ? `softmode: ${e.message}` : e);
    process.exitCode = 1;
  },
);
