#!/usr/bin/perl
# Sealed files (docs/sealed.md) by two implementations side by side:
# libbitcache (build/tools/sealed_tool) and t/node/sealed.js, written from
# the page with Node's crypto only. Both give the vectors of
# t/vectors/sealed.txt; each opens what the other sealed (and seals the same
# bytes from the same key and nonce), on random sizes from 0 to a few MiB;
# both refuse the same mangled files. Then `bitcache seal` and `bitcache
# open` on 100 MiB: the key from Redis unwrapped by Node, the bytes
# compared, a changed file refused with nothing written.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use BcTest;

my $TOOL = "$BcTest::TOOLS/sealed_tool";
my $NODE = 'node t/node/sealed.js';
my $CLI = $BcTest::CLI;
-x $TOOL or BAIL_OUT("$TOOL missing: make unit");

my $seed = $ENV{BC_SEED} // time;
srand $seed;
diag("seed $seed (BC_SEED=$seed to repeat)");

my $t = BcTest->new;
my $dir = $t->dir;

sub slurp { open my $f, '<:raw', $_[0] or die "$_[0]: $!"; local $/; my $s = <$f>; close $f; $s }
sub spew { open my $f, '>:raw', $_[0] or die "$_[0]: $!"; print $f $_[1]; close $f }
sub rhex { join '', map { sprintf '%02x', int rand 256 } 1 .. $_[0] }
sub shq { my $s = shift; $s =~ s/'/'\\''/g; "'$s'" }

# runs "IMPL ARGS < in > out": the exit status
sub run_io {
    my ($impl, $args, $in, $out) = @_;
    return system("$impl $args < $in > $out 2>$dir/stderr") >> 8;
}

# --- the vectors -----------------------------------------------------------
my %v;
open my $fh, '<', 't/vectors/sealed.txt' or die "t/vectors/sealed.txt: $!";
while (<$fh>) {
    next if /^#/ || !/=/;
    chomp;
    my ($k, $val) = split /=/, $_, 2;
    $v{$k} = $val;
}
close $fh;
is(scalar keys %v, 20, 'every vector read');

my $long = join '', map { chr($_ % 251) } 0 .. 2499;
spew("$dir/long", $long);
spew("$dir/empty", '');
spew("$dir/abc", 'abc');
for my $impl ($TOOL, $NODE) {
    my $name = $impl eq $TOOL ? 'C' : 'Node';
    chomp(my $sk = `$impl sealkey $v{secret}`);
    is($sk, $v{seal_key}, "$name: seal_key");
    chomp(my $id = `$impl keyid $v{key}`);
    is($id, $v{key_id}, "$name: key id");
    my $args = "seal $v{key} $v{nonce} $v{chunk} " . shq($v{host}) . ' ' . shq($v{product});
    is(run_io($impl, "$args " . shq($v{title}), "$dir/empty", "$dir/out"), 0, "$name seals 0 bytes");
    is(unpack('H*', slurp("$dir/out")), $v{empty}, "$name: the empty file's vector");
    is(run_io($impl, "$args ''", "$dir/abc", "$dir/out"), 0, "$name seals abc");
    is(unpack('H*', slurp("$dir/out")), $v{abc}, "$name: abc's vector, no title");
    is(run_io($impl, "$args " . shq($v{title}), "$dir/long", "$dir/out"), 0, "$name seals 2500");
    my $f = slurp("$dir/out");
    is(length $f, $v{long_len}, "$name: 2500 bytes seal to $v{long_len}");
    require Digest::SHA;
    is(Digest::SHA::sha256_hex($f), $v{long_sha256}, "$name: the sealed file's SHA256");
    is(Digest::SHA::sha256_hex(substr($f, 0, 92)), $v{header_sha256}, "$name: the header's SHA256");
    is(unpack('H*', substr($f, 92 + 1024, 16)), $v{long_tag0}, "$name: chunk 0's tag");
    is(unpack('H*', substr($f, 92 + 2080 - 16, 16)), $v{long_tag1}, "$name: chunk 1's tag");
    is(unpack('H*', substr($f, -16)), $v{long_tag2}, "$name: chunk 2's tag (the last)");
    is(run_io($impl, "open $v{key}", "$dir/out", "$dir/back"), 0, "$name opens it");
    ok(slurp("$dir/back") eq $long, "$name: the 2500 bytes back");
    chomp(my $w = `$impl wrap $v{secret} $v{product} $v{key} $v{wrap_nonce}`);
    is($w, $v{wrapped}, "$name: the wrapped key");
    chomp(my $k = `$impl unwrap $v{secret} $v{product} $v{key_id} $v{wrapped}`);
    is($k, $v{key}, "$name: unwraps to the key");
    isnt(system("$impl unwrap $v{secret} /films/b.mp4 $v{key_id} $v{wrapped} >/dev/null 2>&1"), 0,
         "$name: not as another product's");
}

# --- both ways, random sizes -------------------------------------------------
my @sizes = (0, 1, 1023, 1024, 1025, 65536, 65537, 3 * 1024 * 1024 + 7,
             map { int rand(2 * 1024 * 1024) } 1 .. 6);
my ($same, $c2n, $n2c) = (0, 0, 0);
for my $n (@sizes) {
    open my $r, '<:raw', '/dev/urandom' or die;
    my $plain = '';
    read($r, $plain, $n) == $n or die if $n;
    close $r;
    spew("$dir/p", $plain);
    my ($key, $nonce) = (rhex(32), rhex(8));
    my $chunk = (1024, 4096, 65536, 100000)[rand 4];
    my $args = "seal $key $nonce $chunk https://h.example/bitcache /p/$n 'T $n'";
    run_io($TOOL, $args, "$dir/p", "$dir/c") == 0 or die "C seal $n";
    run_io($NODE, $args, "$dir/p", "$dir/n") == 0 or die "Node seal $n";
    $same++ if slurp("$dir/c") eq slurp("$dir/n");
    $c2n++ if run_io($NODE, "open $key", "$dir/c", "$dir/o") == 0 && slurp("$dir/o") eq $plain;
    $n2c++ if run_io($TOOL, "open $key", "$dir/n", "$dir/o") == 0 && slurp("$dir/o") eq $plain;
}
is($same, scalar @sizes, 'the same key and nonce seal the same bytes in C and Node (' . @sizes . ' sizes)');
is($c2n, scalar @sizes, 'C seals, Node opens');
is($n2c, scalar @sizes, 'Node seals, C opens');

# --- mangled files: both refuse ----------------------------------------------
{
    my $key = rhex(32);
    spew("$dir/p", join '', map { chr int rand 256 } 1 .. 5000);
    run_io($TOOL, "seal $key " . rhex(8) . " 1024 https://h.example/b /m ''", "$dir/p", "$dir/s");
    my $s = slurp("$dir/s");
    my ($refused_c, $refused_n, $tries) = (0, 0, 0);
    for my $i (1 .. 60) {
        my $m = $s;
        my $k = $i % 4;
        if ($k == 0) { my $p = int rand length $m; substr($m, $p, 1) ^= chr(1 << int rand 8) }
        elsif ($k == 1) { $m = substr($m, 0, int rand length $m) }
        elsif ($k == 2) { $m .= chr(int rand 256) x (1 + int rand 40) }
        else { substr($m, 92 - 6 + 1040, 1040) = substr($s, 92 - 6, 1040);
               substr($m, 92 - 6, 1040) = substr($s, 92 - 6 + 1040, 1040) }     # swap 0 and 1
        spew("$dir/m", $m);
        $tries++;
        $refused_c++ if run_io($TOOL, "open $key", "$dir/m", "$dir/o") == 1;
        $refused_n++ if run_io($NODE, "open $key", "$dir/m", "$dir/o") == 1;
    }
    is($refused_c, $tries, "C refuses $tries flipped, cut, appended and swapped files");
    is($refused_n, $tries, "Node refuses them too");
}

# --- the CLI on 100 MiB ---------------------------------------------------------
$t->start_redis;
my $R = $t->redis_addr;
system("head -c 104857600 /dev/urandom > $dir/big") == 0 or die;
my $line = `$CLI seal $dir/big $dir/big.sealed --product /films/big.mp4 --host https://files.example/bitcache --title 'Big' --secret $dir/secret --redis $R 2>&1`;
is($?, 0, 'bitcache seal: 100 MiB');
like($line, qr{^/films/big\.mp4\tkey ([0-9a-f]{32}) \(new\)\t104857600 bytes\tsealed (\d+) bytes$}m,
     "it prints the product's line: $line");
my ($id) = $line =~ /key ([0-9a-f]{32})/;
is(-s "$dir/big.sealed", 104857600 + 1600 * 16 + 8 + 2 + 4 + 16 + 8 + 2 + 30 + 2 + 14 + 2 + 3,
   'header + 100 MiB + 1600 tags');
my %rec = @{ $t->redis('HGETALL', 'bitcache:sealkey:/films/big.mp4') };
is($rec{v}, 1, 'sealkey:<product>: v 1');
is($rec{id}, $id, 'its id is the printed key id');
like($rec{created}, qr/^\d+$/, 'created');
my $sealed_head = slurp("$dir/big.sealed");
ok(index($sealed_head, pack('H*', $rec{key})) < 0 && $rec{key} =~ /^[0-9a-f]{120}$/,
   'the record holds a 60-byte wrapped key');
chomp(my $secret = slurp("$dir/secret"));
chomp(my $key = `$NODE unwrap $secret /films/big.mp4 $id $rec{key}`);
like($key, qr/^[0-9a-f]{64}$/, 'Node unwraps the key with bitcache_secret');
undef $sealed_head;
chomp(my @h = `$NODE header < $dir/big.sealed`);
is_deeply([@h[0, 1, 3, 4, 5]], [65536, $id, 'https://files.example/bitcache', '/films/big.mp4', 'Big'],
          "Node reads the header's fields");
is(system("$CLI open $dir/big.sealed -o $dir/big.back --key $key"), 0, 'bitcache open: 100 MiB');
is(system("cmp -s $dir/big $dir/big.back"), 0, 'the same bytes (cmp)');
unlink "$dir/big.back";

$line = `$CLI seal $dir/abc $dir/abc.sealed --product /films/big.mp4 --host https://files.example/bitcache --secret $dir/secret --redis $R 2>&1`;
like($line, qr/key $id\t3 bytes/, 'sealed again, the product keeps its key');
$line = `$CLI seal $dir/abc $dir/abc2.sealed --new-key --product /films/big.mp4 --host https://files.example/bitcache --secret $dir/secret --redis $R 2>&1`;
unlike($line, qr/key $id/, '--new-key makes another');
like($line, qr/\(new\)/, 'and says so');

# a record that does not unwrap is never replaced unasked
$t->redis('HSET', 'bitcache:sealkey:/films/big.mp4', 'key', '00' x 60);
$line = `$CLI seal $dir/abc $dir/abc3.sealed --product /films/big.mp4 --host https://files.example/bitcache --secret $dir/secret --redis $R 2>&1`;
is($? >> 8, 1, 'a record that does not unwrap: seal refuses');
like($line, qr/does not unwrap under this secret \(--new-key replaces it/, "and says what to do: $line");
ok(!-e "$dir/abc3.sealed", 'no OUT written');

# a changed byte in the middle: refused, naming the chunk, no OUT
open my $bf, '+<:raw', "$dir/big.sealed" or die;
seek $bf, 50 * 1024 * 1024, 0;
print $bf "\xff\x00";
close $bf;
my $err = `$CLI open $dir/big.sealed -o $dir/big.back --key $key 2>&1`;
is($? >> 8, 1, 'a changed file: exit 1');
like($err, qr/refused, nothing written: chunk 799 does not verify/, "it names the chunk: $err");
ok(!-e "$dir/big.back", 'no OUT written');
opendir my $dh, $dir or die;
is(scalar(grep { /^big\.back\./ } readdir $dh), 0, 'no temporary file left');
closedir $dh;
$err = `$CLI open $dir/abc.sealed -o $dir/x --key ${\ ('00' x 32)} 2>&1`;
like($err, qr/the key is not this file's/, 'another key: refused, says why');
$err = `$CLI seal $dir/abc $dir/x --product /p --host ftp://x --secret $dir/secret --redis $R 2>&1`;
like($err, qr/--host must be an http/, 'a bad --host is named');
$err = `$CLI seal $dir/abc $dir/x --product /p --host https://x --chunk-size 1000 --secret $dir/secret --redis $R 2>&1`;
like($err, qr/--chunk-size/, 'a bad --chunk-size is named');
for my $p ('films/a.mp4', 'https://x/p', ' /p') {
    $err = `$CLI seal $dir/abc $dir/x --product '$p' --host https://x --secret $dir/secret --redis $R 2>&1`;
    is($? >> 8, 2, "--product '$p' (no leading '/'): exit 2");
    like($err, qr/--product must be the path .* starting with '\/'/, "--product '$p': named");
}
for my $p ('/films/../a', '/films//a', '/films/./a', '/a?b', '/..') {
    $err = `$CLI seal $dir/abc $dir/x --product '$p' --host https://x --secret $dir/secret --redis $R 2>&1`;
    is($? >> 8, 2, "--product '$p': exit 2");
    like($err, qr/a path the host serves as it is/, "--product '$p': named (the key route refuses it)");
}
ok(!-e "$dir/x", 'nothing sealed for a product that is not a path');
$err = `$CLI open $dir/abc.sealed -o $dir/x --key 12 2>&1`;
like($err, qr/--key: not 64 hex digits/, 'a bad --key is named');
unlink "$dir/big", "$dir/big.sealed";

# --- docs/sealed.md shows the vectors -------------------------------------------
my $doc = slurp('docs/sealed.md');
for my $k (qw(seal_key key_id empty abc long_sha256 header_sha256 long_tag0 long_tag1 long_tag2
              wrapped)) {
    ok(index($doc, $v{$k}) >= 0, "docs/sealed.md shows $k");
}
done_testing;
