#!/usr/bin/perl
# bitcache secret / grant / revoke: output, Redis records, and bad
# arguments refused with a clear message and exit 2.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use BcTest;
use TokenRef qw(parse_token);

my $t = BcTest->new;
$t->start_redis;
my $dir = $t->dir;
my $R = $t->redis_addr;

my ($rc, $out, $err) = $t->cli('secret');
is($rc, 0, 'secret exits 0');
like($out, qr/^[0-9a-f]{64}\n$/, 'secret prints 32 random bytes as hex');
my ($rc2, $out2) = $t->cli('secret');
isnt($out2, $out, 'a new one each time');

# grant
my $before = time;
($rc, $out, $err) = $t->cli('grant', '--secret', "$dir/secret", '--redis', $R, '--ttl', '2h', '--uses', 7, '/files/a b.pdf');
is($rc, 0, 'grant exits 0') or diag $err;
chomp $out;
my $p = parse_token($out);
is($p->{version}, 1, 'version 1');
is($p->{uses}, 7, 'uses in the token');
is($p->{product}, '/files/a b.pdf', 'product in the token');
ok($p->{expires} >= $before + 7200 && $p->{expires} <= time + 7200, 'expires in 2h');
my $rec = $t->redis('HGETALL', "bitcache:tok:$p->{id}");
my %h = @$rec;
is_deeply(\%h, { uses => 7, product => '/files/a b.pdf', expires => $p->{expires}, 'b:/files/a b.pdf' => 1 << 50 },
          'Redis record: the file\'s counter ready, nothing drawn');
my $ttl = $t->redis('TTL', "bitcache:tok:$p->{id}");
ok($ttl > 7000 && $ttl <= 7200, "record expires with the token (TTL $ttl)");

($rc, $out) = $t->cli('grant', '--secret', "$dir/secret", '--redis', $R, '--redis-prefix', 'shop2:', '/x');
is($rc, 0, 'grant with a prefix');
chomp $out;
ok($t->redis('EXISTS', 'shop2:tok:' . parse_token($out)->{id}), 'record under the prefix');

# revoke, by id and by token
($rc, $out, $err) = $t->cli('revoke', '--redis', $R, $p->{id});
is($rc, 0, 'revoke by id');
like($out, qr/^revoked $p->{id}$/m, 'says so');
is($t->redis('HGET', "bitcache:tok:$p->{id}", 'revoked'), 1, 'revoked in Redis');
is($t->redis('HGET', "bitcache:tok:$p->{id}", 'b:/files/a b.pdf'), (1 << 51) + (1 << 50), 'its counter in the revoked band (docs/protocol.md)');
($rc, $out, $err) = $t->cli('revoke', '--redis', $R, '0' x 32);
is($rc, 1, 'revoking an unknown id exits 1');
like($err, qr/no token 0{32} \(expired or never granted\)/, 'and says so');

# bad arguments: exit 2 and a message that names what is wrong
my @bad = (
    [ ['grant', '--redis', $R, '/x'], qr/--secret FILE is required/ ],
    [ ['grant', '--secret', "$dir/secret", '/x'], qr/--redis ADDR is required/ ],
    [ ['grant', '--secret', "$dir/secret", '--redis', $R], qr/exactly one PRODUCT is needed/ ],
    [ ['grant', '--secret', "$dir/secret", '--redis', $R, 'a', 'b'], qr/exactly one PRODUCT is needed/ ],
    [ ['grant', '--secret', "$dir/secret", '--redis', $R, '--ttl', 'soon', '/x'], qr/--ttl: "soon" is not a duration/ ],
    [ ['grant', '--secret', "$dir/secret", '--redis', $R, '--ttl', '0', '/x'], qr/--ttl: "0" is not a duration/ ],
    [ ['grant', '--secret', "$dir/secret", '--redis', $R, '--uses', '-1', '/x'], qr/--uses: "-1" is not a number of downloads/ ],
    [ ['grant', '--secret', "$dir/secret", '--redis', $R, '--uses', '4294967296', '/x'], qr/--uses: "4294967296"/ ],
    [ ['grant', '--secret', "$dir/nope", '--redis', $R, '/x'], qr/--secret: cannot open "\Q$dir\E\/nope"/ ],
    [ ['grant', '--secret', "$dir/secret", '--redis', $R, '--frobnicate', '/x'], qr/unknown or incomplete option "--frobnicate"/ ],
    [ ['grant', '--secret', "$dir/secret", '--redis', $R, '--redis-db', 'x', '/x'], qr/--redis-db: "x" is not a database number/ ],
    [ ['grant', '--secret', "$dir/secret", '--redis', $R, 'x' x 1025], qr/PRODUCT must be 1 to 1024 bytes/ ],
    [ ['revoke', '--redis', $R], qr/exactly one TOKEN or ID is needed/ ],
    [ ['revoke', $p->{id}], qr/--redis ADDR is required/ ],
    [ ['revoke', '--redis', $R, 'not-a-token'], qr/"not-a-token" is neither a token nor a 32-digit token id/ ],
    [ ['open', 'f.sealed'], qr/-o OUT is required/ ],
    [ ['open', 'f.sealed', '-o', 'x', '--token', 'a b'], qr/--token: not a token/ ],
    [ ['open', 'f.sealed', '-o', 'x', '--invoice', '0' x 32], qr/--invoice and --claim go together/ ],
    [ ['open', 'f.sealed', '-o', 'x', '--amount', 'lots'], qr/--amount: not a number of sats/ ],
    [ ['open', 'f.sealed', '-o', 'x', '--wait', 'soon'], qr/--wait: not a number of seconds/ ],
    [ ['open', 'f.sealed', '-o', 'x', '--wallet-secret', "\@$dir/nope", '--host', 'http://x/y'], qr/--wallet-secret: cannot open/ ],
    [ ['open', 'f.sealed', '-o', 'x', '--token', 'abc'], qr/--host URL is required with --token/ ],
    [ ['secret', 'extra'], qr/takes no arguments, got "extra"/ ],
    [ ['frobnicate'], qr/unknown command 'frobnicate'/ ],
    [ [], qr/usage: bitcache COMMAND/ ],
);
for my $case (@bad) {
    my ($args, $want) = @$case;
    ($rc, $out, $err) = $t->cli(@$args);
    my $name = join(' ', map { length > 30 ? substr($_, 0, 27) . '...' : $_ } @$args) || '(none)';
    is($rc, 2, "exit 2: $name");
    like($err, $want, "message: $name");
    is($out, '', "nothing on stdout: $name");
}

chmod 0644, "$dir/secret";
($rc, $out, $err) = $t->cli('grant', '--secret', "$dir/secret", '--redis', $R, '/x');
is($rc, 2, 'a world-readable secret is refused');
like($err, qr/accessible by others \(mode 0644\)/, 'and says why');
chmod 0600, "$dir/secret";

# Redis not reachable: a run-time failure (exit 1), not a usage error
$t->stop_redis;
($rc, $out, $err) = $t->cli('grant', '--secret', "$dir/secret", '--redis', $R, '/x');
is($rc, 1, 'Redis down: exit 1');
like($err, qr/cannot connect to redis \Q$R\E/, 'names the address');
is($out, '', 'no token printed when it could not be recorded');

($rc, $out) = $t->cli('--help');
is($rc, 0, '--help exits 0');
like($out, qr/grant --secret FILE --redis ADDR/, 'and lists grant');

done_testing;
