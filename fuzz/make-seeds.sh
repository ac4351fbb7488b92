#!/bin/sh
# Writes fuzz/seeds/TARGET/* from the official vectors in t/vectors (one
# input per file). Run from the repository root after t/vectors/extract.pl.
set -eu
v=t/vectors
s=fuzz/seeds
rm -rf "$s"
mkdir -p "$s/base58" "$s/bech32" "$s/extkey" "$s/descriptor" "$s/template"
# files named by content, as libFuzzer names its corpus
seed() { printf '%s' "$2" > "$s/$1/$(printf '%s' "$2" | sha1sum | cut -c1-40)"; }
grep -v '^#' $v/bech32.tsv | cut -f3 | while read -r x; do seed bech32 "$x"; done
grep -v '^#' $v/segwit.tsv | cut -f2 | while read -r x; do seed bech32 "$x"; done
grep -v '^#' $v/bip32.tsv | cut -f3,4 | tr '\t' '\n' | grep -v '^-$' | grep . | while read -r x; do
    seed extkey "$x"; seed base58 "$x"; done
grep -v '^#' $v/bip32-invalid.tsv | cut -f1 | while read -r x; do seed extkey "$x"; done
grep -v '^#' $v/addresses.tsv | cut -f2 | sort -u | while read -r x; do seed extkey "$x"; seed descriptor "$x"; done
grep -v '^#' $v/addresses.tsv | cut -f6 | while read -r x; do seed base58 "$x"; seed bech32 "$x"; done
grep -v '^#' $v/bip380-keys.tsv | cut -f2 | while read -r x; do seed descriptor "wpkh($x)"; done
grep -v '^#' $v/bip380-checksum.tsv | cut -f2 | while read -r x; do seed descriptor "$x"; done
x=xpub6BgBgsespWvERF3LHQu6CnqdvfEvtMcQjYrcRzx53QJjSxarj2afYWcLteoGVky7D3UKDP9QyrLprQ3VCECoY49yfdDEHGCtMMj92pReUsQ
for d in "pkh([deadbeef/44h/0h/0h]$x/0/*)" "sh(wpkh($x/0/*))" "wpkh($x/1/*)" "tr($x/0/*)#8e7pq23w"; do
    seed descriptor "$d"
done
# page templates: each section kind, raw and escaped tags, comments, and errors
for x in '<h1>{{title}}</h1>' '{{{svg}}}{{& a}}' '{{#one}}[{{ title }}]{{/one}}{{^zero}}z{{/zero}}' \
         '{{#one}}{{#empty}}x{{/empty}}{{^null}}{{a}}{{/null}}{{/one}}' '{{! note }}a{{/x}}' \
         '{{#one}}' '{{title' '{{{svg}}' '{{bad name}}'; do
    seed template "$x"
done
# raw transactions and blocks (binary), from t/vectors/tx.tsv
mkdir -p "$s/tx"
grep -v '^#' $v/tx.tsv | cut -f2 | while read -r x; do
    printf '%s' "$x" | perl -ne 'print pack("H*", $_)' > "$s/tx/$(printf '%s' "$x" | sha1sum | cut -c1-40)"
done
# the watcher's payment records, "<field>\n<value>": block, mempool, the old
# format and the issue's forged one
mkdir -p "$s/pay_record"
z64=0000000000000000000000000000000000000000000000000000000000000000
for x in "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff:1
12345 7 0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206 1767225600 000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f" \
         "ab00000000000000000000000000000000000000000000000000000000000000:0
546 0 $z64 1767225600 ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100" \
         "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee:0
99999999 1" \
         "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee:4294967295:seen
1767225600"; do
    seed pay_record "$x"
done
# wallet ids: the descriptors and keys above, spellings of one key, reuse: members
mkdir -p "$s/wallet_id"
cp "$s/descriptor/"* "$s/wallet_id/"
T=tpubDDPRy5xWxJTuVmsh7YRzK8o2EdMWgn4t41fTLxXRgyRN7EKvN2L8BKCFC1gUfPu8Xp6rr667Yc26zrXsiBZsgBc8dQiYnhPNk2Q7CsBrer5
for x in 0000000000 0000000007 2147483647 2147483648 007 -1 4294967296 "wpkh($T/0/*)" "wpkh([D34DB33F/84h/1h/0h]$T/0/*)" \
         "sh(wpkh($T/1/*))" "tr($T/*)" "$T"; do
    seed wallet_id "$x"
done
# wallet records (t/vectors/wallet.txt): recovery codes as typed, ledger
# entries, ownership values, a state as HGETALL gives it (NUL-separated),
# idempotency keys
mkdir -p "$s/wallet_code" "$s/wallet_record"
w() { grep "^$1=" $v/wallet.txt | cut -d= -f2-; }
code=$(w code)
for x in "$code" "$(printf %s "$code" | tr a-z A-Z)" "bcw1 5zs6 9gay-5kn2 029f" "$(printf %s "$code" | sed 's/.\{6\}/&-/g')" \
         "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4" "bcw1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"; do
    seed wallet_code "$x"
done
for k in credit_text debit_text owned; do seed wallet_record "$(w $k)"; done
for x in key-1 A_b-9; do seed wallet_record "$x"; done
st=$(printf 'v\0001\000net\0003\000created\0001767225600\000seq\0002\000bal\00037655\000head\000%s\000auto\000500\000mac\000%s\000frozen\000audit' \
     "$(w debit_hash)" "$(w state2_mac)" | od -An -tx1 | tr -d ' \n')
printf '%s' "$st" | perl -ne 'print pack("H*", $_)' > "$s/wallet_record/$(printf '%s' "$st" | sha1sum | cut -c1-40)"
