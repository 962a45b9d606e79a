# Reads the [env] table of a blaxel.toml and prints, for each variable, a
# line of sh that adds `-e 'KEY=value'` to the positional parameters:
#   set -- "$@" -e 'NODE_ENV=development'
# `make run-image` evaluates them and passes "$@" to docker run. Arguments
# rather than an --env-file, because a value may span lines (SANDBOX_STARTUP
# as a multi-line string), and rather than exported variables, which would
# reach the docker client itself.
#
# Keys may be bare or quoted. Values are basic strings ("..." with \" \\
# \t \n escapes), literal strings ('...'), their multi-line forms ("""...""",
# '''...'''), or bare numbers and booleans. Anything else stops it with a
# message naming the line and exit status 1.

function fail(msg) {
	printf "blaxel.toml line %d: %s\n", NR, msg > "/dev/stderr"
	exit 1
}

function trim(s) {
	sub(/^[ \t]+/, "", s)
	sub(/[ \t]+$/, "", s)
	return s
}

# shq quotes s for sh: inside single quotes only ' itself needs care.
function shq(s) {
	gsub(/'/, "'\\''", s)
	return "'" s "'"
}

# unescape reads basic-string text up to the closing quote(s) q, from s;
# it sets rest to what follows and returns 1 once q is found, or 0 (the
# text so far in acc) when the line ends first.
function unescape(s, q,    i, c, n) {
	for (i = 1; i <= length(s); i++) {
		if (substr(s, i, length(q)) == q) {
			rest = trim(substr(s, i + length(q)))
			return 1
		}
		c = substr(s, i, 1)
		if (c == "\\") {
			n = substr(s, ++i, 1)
			if (n == "") { trimming = 1; return 0 } # line-ending backslash
			if (n == "\"" || n == "\\") acc = acc n
			else if (n == "t") acc = acc "\t"
			else if (n == "n") acc = acc "\n"
			else fail("unsupported escape \\" n)
			continue
		}
		acc = acc c
	}
	return 0
}

# multiline reads a """ or ''' string whose text starts with s, taking
# further lines as needed.
function multiline(s, q,    first, at) {
	acc = ""
	first = 1
	trimming = 0
	for (;;) {
		if (trimming) { # after a line-ending backslash: blanks and newlines go
			sub(/^[ \t]+/, "", s)
			if (s == "") {
				if ((getline s) <= 0) fail("unterminated string")
				continue
			}
			trimming = 0
		}
		if (first && s == "") {
			# a newline right after the opening quotes is not part of the value
		} else if (q == "'''") {
			at = index(s, q)
			if (at > 0) {
				rest = trim(substr(s, at + 3))
				return acc substr(s, 1, at - 1)
			}
			acc = acc s "\n"
		} else {
			if (unescape(s, q)) return acc
			if (!trimming) acc = acc "\n"
		}
		first = 0
		if ((getline s) <= 0) fail("unterminated string")
	}
}

/^[ \t]*\[/ {
	in_env = ($0 ~ /^[ \t]*\[[ \t]*env[ \t]*\][ \t]*(#.*)?$/)
	next
}

!in_env || /^[ \t]*(#.*)?$/ { next }

{
	eq = index($0, "=")
	if (eq == 0) fail("no = in the [env] line")
	key = trim(substr($0, 1, eq - 1))
	if (key ~ /^".*"$/ || key ~ /^'.*'$/) key = substr(key, 2, length(key) - 2)
	if (key !~ /^[A-Za-z_][A-Za-z0-9_]*$/) fail("invalid variable name " key)
	v = trim(substr($0, eq + 1))
	rest = ""
	if (substr(v, 1, 3) == "\"\"\"" || substr(v, 1, 3) == "'''") {
		value = multiline(substr(v, 4), substr(v, 1, 3))
	} else if (substr(v, 1, 1) == "\"") {
		acc = ""
		trimming = 0
		if (!unescape(substr(v, 2), "\"")) fail("unterminated string")
		value = acc
	} else if (substr(v, 1, 1) == "'") {
		end = index(substr(v, 2), "'")
		if (end == 0) fail("unterminated string")
		value = substr(v, 2, end - 1)
		rest = trim(substr(v, end + 2))
	} else {
		value = v
		sub(/[ \t]*#.*$/, "", value)
		if (value !~ /^[A-Za-z0-9_.+:-]+$/) fail("unsupported value " v)
	}
	if (rest != "" && rest !~ /^#/) fail("unexpected text after the value: " rest)
	print "set -- \"$@\" -e " shq(key "=" value)
}
