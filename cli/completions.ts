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

import type { Command } from "commander";
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

function walk(cmd: Command, path: string[], out: Node[]): void {
  const subs = cmd.commands.filter((c) => c.name() !== "help");
  out.push({
    path,
    subcommands: subs.map((c) => c.name()),
    options: [...cmd.options.map((o) => o.long).filter((l): l is string => !!l), "--help"],
  });
  for (const c of subs) walk(c, [...path, c.name()], out);
}

/** The command tree of `program` (root first). */
function tree(program: Command): Node[] {
  const out: Node[] = [];
  walk(program, [], out);
  return out;
}

/** A bash completion script for `program`. */
export function bashCompletion(program: Command): string {
  const cases = tree(program).map((n) => {
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

/** A zsh completion script for `program` (bash's, through bashcompinit). */
export function zshCompletion(program: Command): string {
  return `#compdef nexus
# zsh completion for nexus (nexus completions zsh)
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(program)}`;
}

/** A fish completion script for `program`. */
export function fishCompletion(program: Command): string {
  const lines = ["# fish completion for nexus (nexus completions fish)", "complete -c nexus -f"];
  for (const n of tree(program)) {
    const cond = n.path.length === 0
      ? "__fish_use_subcommand"
      : `__fish_seen_subcommand_from ${n.path.at(-1)}`;
    for (const s of n.subcommands) lines.push(`complete -c nexus -n '${cond}' -a ${s}`);
    for (const o of n.options) lines.push(`complete -c nexus -n '${cond}' -l ${o.slice(2)}`);
  }
  return lines.join("\n") + "\n";
}

/** Registers `completions` on the root program (call last: it describes every command). */
export function registerCompletions(program: Command): Command {
  return program.command("completions")
    .description("print a shell completion script (bash, zsh or fish)")
    .argument("<shell>", `one of: ${SHELLS.join(", ")}`)
    .addHelpText(
      "after",
      `
Install, for example:
  nexus completions bash > ~/.local/share/bash-completion/completions/nexus
  nexus completions zsh > "\${fpath[1]}/_nexus"
  nexus completions fish > ~/.config/fish/completions/nexus.fish

Exit codes: 0 printed; 2 unknown shell.`,
    )
    .action((shell: string) => {
      const make = shell === "bash"
        ? bashCompletion
        : shell === "zsh"
        ? zshCompletion
        : shell === "fish"
        ? fishCompletion
        : undefined;
      if (!make) throw new CliError(`unknown shell "${shell}"; use one of: ${SHELLS.join(", ")}`);
      printOut(make(program));
    });
}
