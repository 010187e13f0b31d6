/**
 * `nexus completions bash|zsh|fish`: shell completion scripts generated from the commands and
 * options nexus actually has, so they never fall behind the CLI.
 *
 * @example
 * ```sh
 * deno task -q nexus completions bash > ~/.local/share/bash-completion/completions/nexus
 * deno task -q nexus completions fish > ~/.config/fish/completions/nexus.fish
 * ```
 *
 * @module
 */

import { buildCommand, type RouteMap } from "@stricli/core";
import { action, arg, docs, type NexusContext, type RoutingTarget } from "./command.ts";
import { CliError } from "./errors.ts";
import { printOut } from "./io.ts";

/** The shells nexus writes completions for. */
export const SHELLS = ["bash", "zsh", "fish"] as const;

/** One command path with its subcommands and long options. */
interface Node {
  path: string[];
  subcommands: string[];
  options: string[];
}

/** `--log-dir` for the flag key `logDir`. */
function longFlag(key: string): string {
  return `--${key.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`)}`;
}

function walk(target: RoutingTarget, path: string[], out: Node[]): void {
  if ("getAllEntries" in target) {
    const entries = target.getAllEntries().filter((e) => !e.hidden);
    out.push({
      path,
      subcommands: entries.map((e) => e.name.original),
      options: path.length === 0 ? ["--version", "--help"] : ["--help"],
    });
    for (const e of entries) walk(e.target, [...path, e.name.original], out);
    return;
  }
  const options: string[] = [];
  for (const [key, flag] of Object.entries(target.parameters.flags ?? {})) {
    options.push(longFlag(key));
    if (flag.kind === "boolean" && flag.default === true) options.push(longFlag(`no-${key}`));
  }
  out.push({ path, subcommands: [], options: [...options, "--help"] });
}

/** The command tree of `root` (root first). */
function tree(root: RouteMap<NexusContext>): Node[] {
  const out: Node[] = [];
  walk(root, [], out);
  return out;
}

/** A bash completion script for the command tree `root`. */
export function bashCompletion(root: RouteMap<NexusContext>): string {
  const cases = tree(root).map((n) => {
    const words = [...n.subcommands, ...n.options].join(" ");
    return `    "${n.path.join(" ")}") words="${words}" ;;`;
  });
  return `# bash completion for nexus (nexus completions bash)
_nexus() {
  local cur path="" w words
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$w" in -*) ;; *) case " $(_nexus_words "$path") " in *" $w "*) path="\${path:+$path }$w" ;; esac ;; esac
  done
  words="$(_nexus_words "$path")"
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
  [ \${#COMPREPLY[@]} -eq 0 ] && COMPREPLY=($(compgen -f -- "$cur"))
}
_nexus_words() {
  local words=""
  case "$1" in
${cases.join("\n")}
  esac
  echo "$words"
}
complete -F _nexus nexus
`;
}

/** A zsh completion script for the command tree `root` (bash's, through bashcompinit). */
export function zshCompletion(root: RouteMap<NexusContext>): string {
  return `#compdef nexus
# zsh completion for nexus (nexus completions zsh)
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(root)}`;
}

/** A fish completion script for the command tree `root`. */
export function fishCompletion(root: RouteMap<NexusContext>): string {
  const lines = ["# fish completion for nexus (nexus completions fish)", "complete -c nexus -f"];
  for (const n of tree(root)) {
    const cond = n.path.length === 0
      ? "__fish_use_subcommand"
      : `__fish_seen_subcommand_from ${n.path.at(-1)}`;
    for (const s of n.subcommands) lines.push(`complete -c nexus -n '${cond}' -a ${s}`);
    for (const o of n.options) lines.push(`complete -c nexus -n '${cond}' -l ${o.slice(2)}`);
  }
  return lines.join("\n") + "\n";
}

/** The `completions` command: it describes whatever tree the run has (the whole one). */
export const COMPLETION_COMMANDS = {
  completions: buildCommand<Record<never, never>, [string], NexusContext>({
    docs: docs(
      "print a shell completion script (bash, zsh or fish)",
      `
Install, for example:
  nexus completions bash > ~/.local/share/bash-completion/completions/nexus
  nexus completions zsh > "\${fpath[1]}/_nexus"
  nexus completions fish > ~/.config/fish/completions/nexus.fish

Exit codes: 0 printed; 2 unknown shell.`,
    ),
    parameters: {
      positional: { kind: "tuple", parameters: [arg(`one of: ${SHELLS.join(", ")}`, "shell")] },
    },
    func: action(function (this: NexusContext, _flags: Record<never, never>, shell: string) {
      const make = shell === "bash"
        ? bashCompletion
        : shell === "zsh"
        ? zshCompletion
        : shell === "fish"
        ? fishCompletion
        : undefined;
      if (!make) throw new CliError(`unknown shell "${shell}"; use one of: ${SHELLS.join(", ")}`);
      printOut(make(this.root));
    }),
  }),
};
