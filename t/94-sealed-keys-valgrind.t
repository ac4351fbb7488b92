#!/usr/bin/perl
# The key route (GET <api>/keys/<product>, docs/sealed.md) under valgrind
# (nginx in one process, as t/88-button-valgrind.t): a key for a token (the
# query and the cookie), used up, no token (the 402 with the sale and the
# key id, a giveaway's count read), a refused token, not sealed, not for
# sale (bitcache off, internal, an internal `return`, a product that is not
# the path, back to the API), 409 for a record that does not open, a
# garbage count, 405, HTTP/2 streams reset while the fetch waits, a client
# gone while Redis is stopped, Redis down. No invalid read, write, free or
# use of uninitialised memory.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP qw(decode_json);
use IO::Socket::INET;
use Time::HiRes qw(sleep);
use BcTest;
use TokenRef;

plan skip_all => 'valgrind not installed' unless `which valgrind` =~ /valgrind/;
plan skip_all => 'module or CLI not built (make all unit)'
    unless -f $BcTest::MODULE && -x $BcTest::CLI;

my $t = BcTest->new;
$t->start_redis;
my $data = $t->make_file('films/a.bin', 20_000);
$t->make_file('films/b.bin', 1_000);
$t->make_file('films/never.bin', 100);
$t->make_file('g/g.bin', 1_000);
$t->make_file('plain/c.bin', 100);
$t->make_file('secret/d.bin', 100);
$t->make_file('ret/e.bin', 100);
$t->make_file('named/f.bin', 100);
$t->{http_port} = BcTest::free_port();
my $h2 = BcTest::free_port();
my $dir = $t->dir;
my $api = "http://127.0.0.1:$t->{http_port}/bitcache";
my $http = $t->selling_http(<<"LOC");
        listen 127.0.0.1:$h2 http2;
        location /films/ { bitcache on; }
        location /g/ { bitcache on; bitcache_free_first 2; }
        location /plain/ { }
        location /secret/ { internal; bitcache on; }
        location /ret/ { internal; bitcache on; return 200 "internal"; }
        location /named/ { bitcache on; bitcache_product /films/a.bin; }
        bitcache_cors_origins http://creator.example;
LOC
my %id;
for my $f (qw(films/a.bin films/b.bin g/g.bin plain/c.bin secret/d.bin ret/e.bin named/f.bin)) {
    (my $n = $f) =~ s{.*/}{};
    $id{"/$f"} = $t->seal($f, "$dir/$n.sealed", "/$f", $api);
}
my $conf = $t->write_file('nginx.conf', "master_process off;\ndaemon off;\n" . $t->nginx_conf($http));
$t->start_nginx_valgrind($conf);

sub req { $t->raw(@_) }
sub json_of { my ($r) = @_; eval { decode_json($r->{content}) } || {} }
sub key_get {
    my ($path, $token, %h) = @_;
    return req('GET', "/bitcache/keys$path" . (defined $token ? "?bitcache_token=$token" : ''),
               undef, %h);
}

my $tok = $t->grant('/films/a.bin', '--uses', 2);
my $r = key_get('/films/a.bin', $tok, Origin => 'http://creator.example');
is($r->{status}, 200, 'a token: 200');
like(json_of($r)->{key} // '', qr/^[0-9a-f]{64}$/, '... the key');
is(json_of($r)->{key_id}, $id{'/films/a.bin'}, '... its id');
is(key_get('/films/a.bin', undef, Cookie => "bitcache_token=$tok")->{status}, 200, 'the cookie: 200');
$r = key_get('/films/a.bin', $tok);
is($r->{status}, 402, 'used up: 402');
is(json_of($r)->{reason}, 'downloads used up', '... downloads used up');
$r = key_get('/films/a.bin');
is($r->{status}, 402, 'no token: 402');
is(json_of($r)->{key_id}, $id{'/films/a.bin'}, '... key_id');
ok(json_of($r)->{offer}, '... the offer');
$r = key_get('/g/g.bin');
is(json_of($r)->{free_left}, 2, 'a giveaway: the count read');
is(key_get('/films/a.bin', 'garbage')->{status}, 402, 'garbage: 402');
is(key_get('/films/a.bin', $t->grant('/films/b.bin'))->{status}, 402, 'another product: 402');
is(key_get('/films/never.bin', $t->grant('/films/never.bin'))->{status}, 404, 'not sealed: 404');
is(key_get('/films/never.bin')->{status}, 404, 'not sealed, no token: 404');
for my $p ('/plain/c.bin', '/secret/d.bin', '/ret/e.bin', '/ret/', '/named/f.bin',
           '/bitcache/keys/films/a.bin', '/nowhere') {
    is(key_get($p, $tok)->{status}, 404, "$p: not for sale");
}
is(key_get('/films/%01')->{status}, 404, 'a control byte: refused');
is(req('POST', "/bitcache/keys/films/a.bin?bitcache_token=$tok", '')->{status}, 405, 'POST: 405');
is(req('HEAD', '/bitcache/keys/films/a.bin', undef)->{status}, 405, 'HEAD: 405');

my %rec = @{ $t->redis('HGETALL', 'bitcache:sealkey:/films/a.bin') };
my %recb = @{ $t->redis('HGETALL', 'bitcache:sealkey:/films/b.bin') };
$t->redis('HSET', 'bitcache:sealkey:/films/a.bin', 'id', $recb{id}, 'key', $recb{key});
my $tu = $t->grant('/films/a.bin', '--uses', 0);
is(key_get('/films/a.bin', $tu)->{status}, 409, 'another product\'s key: 409');
$t->redis('HSET', 'bitcache:sealkey:/films/a.bin', 'id', 'x');
is(key_get('/films/a.bin')->{status}, 409, 'a bad id, no token: 409');
$t->redis('HSET', 'bitcache:sealkey:/films/a.bin', %rec);
$t->redis('HSET', 'bitcache:tok:' . TokenRef::parse_token($tu)->{id}, 'keys', 'x');
is(key_get('/films/a.bin', $tu)->{status}, 503, 'a garbage count: 503');
$t->redis('HSET', 'bitcache:tok:' . TokenRef::parse_token($tu)->{id}, 'keys', '0');
$t->redis('SCRIPT', 'FLUSH');
is(key_get('/films/a.bin', $tu)->{status}, 200, 'after SCRIPT FLUSH (NOSCRIPT, then EVAL): 200');

# HTTP/2: streams reset while the fetches wait for Redis, and the
# connection dropped
{
    my @p = map { ("/bitcache/keys/films/a.bin?bitcache_token=$tu", '/bitcache/keys/films/a.bin',
                   '/bitcache/keys/g/g.bin', '/bitcache/keys/ret/e.bin') } 1 .. 5;
    my $out = `node $BcTest::ROOT/t/h2-buys.js $h2 x 2 0 @p 2>&1`;
    like($out, qr/^[0-9 ]+$/, 'HTTP/2: every other stream reset');
    $out = `node $BcTest::ROOT/t/h2-buys.js $h2 x 0 30 @p @p 2>&1`;
    like($out, qr/^[0-9 ]+$/, 'HTTP/2: the connection dropped');
}

# a client that goes away while Redis is stopped (the fetch times out)
$t->redis_signal('STOP');
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->{http_port}) or die;
print $s "GET /bitcache/keys/films/a.bin?bitcache_token=$tu HTTP/1.1\r\nHost: x\r\n\r\n";
sleep 0.3;
close $s;
$r = key_get('/films/a.bin');
is($r->{status}, 503, 'Redis stopped: 503 (timeout)');
$t->redis_signal('CONT');
sleep 0.5;
$t->stop_redis;
$r = key_get('/films/a.bin', $tu);
is($r->{status}, 503, 'Redis down: 503');
ok($r->{headers}{'retry-after'}, '... Retry-After');

$t->stop_nginx_valgrind;
$t->check_log_clean;
done_testing;
