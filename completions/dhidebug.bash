# SPDX-License-Identifier: Apache-2.0
# bash completion for dhidebug: subcommands, options (read from `dhidebug --help`, so they
# never drift from the program), profile names, targets from `dhidebug ls`, session ids.
# Installed as $(PREFIX)/share/bash-completion/completions/dhidebug.

# _dhidebug_json_values KEY ARGS...: the string values of KEY in the objects of the array that
# `dhidebug ARGS --json` prints (no jq needed: dhidebug prints one key a line, indented 4 spaces
# at that level; nested objects' keys, such as a session's target.id, are indented more)
_dhidebug_json_values()
{
	local key=$1
	shift
	"${_dhidebug_prog:-dhidebug}" "$@" --json 2>/dev/null |
		sed -n 's/^    "'"$key"'": "\([^"]*\)",\{0,1\}$/\1/p'
}

_dhidebug()
{
	local cur prev cmd="" sub="" dir="" i w
	local -a words=("${COMP_WORDS[@]}") at=()

	_dhidebug_prog=${words[0]}
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	# `--opt=value`: bash splits at `=` (COMP_WORDBREAKS), so the option is two words back
	if [[ $prev == = ]]; then
		prev=${COMP_WORDS[COMP_CWORD-2]}
	elif [[ $cur == = ]]; then
		cur=""
	fi
	COMPREPLY=()
	# everything after `--` is the program and its arguments
	for ((i = 1; i < COMP_CWORD; i++)); do
		[[ ${words[i]} == -- ]] && return 0
	done
	case $prev in
	--profile)
		mapfile -t COMPREPLY < <(compgen -W "$(_dhidebug_json_values name profiles)" -- "$cur")
		return 0 ;;
	--view)
		mapfile -t COMPREPLY < <(compgen -W "auto union toolbox" -- "$cur")
		return 0 ;;
	--net)
		mapfile -t COMPREPLY < <(compgen -W "none host" -- "$cur")
		return 0 ;;
	--toolbox | --toolbox-cache | --runtime-root | --containerd-root | --crio-root | \
		--sessions-dir | --dir | --root)
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		return 0 ;;
	--policy | --html)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return 0 ;;
	--target)
		mapfile -t COMPREPLY < <(compgen -W "$(_dhidebug_json_values target ls)" -- "$cur")
		return 0 ;;
	--user | --since | --speed | --idle-limit | --max-unpacked | --pull-timeout | \
		--default-toolbox | --insecure-registry | --name | -c)
		return 0 ;;
	esac
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$("$_dhidebug_prog" --help 2>/dev/null |
			grep -o -- '--[a-z][a-z-]*' | sort -u) -c -q" -- "$cur")
		return 0
	fi
	# the first two words that are not options (or an option's value) say where we are
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${words[i]}
		[[ ${words[i + 1]} == = ]] && ((i++))
		[[ $w == --dir ]] && dir=${words[i + 1]}
		case $w in
		--profile | --view | --net | --toolbox | --toolbox-cache | --runtime-root | \
			--containerd-root | --crio-root | --sessions-dir | --dir | --root | --policy | \
			--html | --target | --user | --since | --speed | --idle-limit | --max-unpacked | \
			--pull-timeout | --default-toolbox | --insecure-registry | --name | -c)
			((i++)) ;;
		-*) ;;
		*)
			if [[ -z $cmd ]]; then cmd=$w; elif [[ -z $sub ]]; then sub=$w; fi ;;
		esac
	done
	# the sessions folder the line names is where the ids come from
	[[ -n $dir ]] && at=(--dir "$dir")
	case $cmd in
	"")
		mapfile -t COMPREPLY < <(compgen -W "profiles ls port-forward lint toolbox sessions replay help
			$(_dhidebug_json_values target ls) $(_dhidebug_json_values name ls)" -- "$cur") ;;
	toolbox)
		[[ -z $sub ]] &&
			mapfile -t COMPREPLY < <(compgen -W "pull ls rm prune import rule" -- "$cur")
		[[ $sub == import ]] && mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
	sessions)
		if [[ -z $sub ]]; then
			mapfile -t COMPREPLY < <(compgen -W "ls grep show verify export ship follow" -- "$cur")
		elif [[ $sub != ls && $sub != grep ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$(_dhidebug_json_values id sessions ls "${at[@]}")" -- "$cur")
		fi ;;
	replay)
		[[ -z $sub ]] &&
			mapfile -t COMPREPLY < <(compgen -W "$(_dhidebug_json_values id sessions ls "${at[@]}")" -- "$cur") ;;
	help)
		[[ -z $sub ]] &&
			mapfile -t COMPREPLY < <(compgen -W "profiles ls port-forward lint toolbox sessions replay help" -- "$cur") ;;
	lint | port-forward)
		[[ -z $sub ]] &&
			mapfile -t COMPREPLY < <(compgen -W "$(_dhidebug_json_values target ls)" -- "$cur") ;;
	esac
	return 0
}

complete -F _dhidebug dhidebug
