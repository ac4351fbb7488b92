# Shared by the benchmarks: free ports, medians of the rounds' figures.

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# median N...: the middle value (the mean of the two middle ones).
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print 0; exit }
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ratios "A1 A2..." "B1 B2...": the median of Ai / Bi, round by round.
ratios() {
    # shellcheck disable=SC2046
    median $(paste <(printf '%s\n' $1) <(printf '%s\n' $2) | awk '$2 > 0 { print $1 / $2 }')
}
