#!/usr/bin/perl
# The products route, the describe mode, the preflight and button.js under
# valgrind (nginx in one process, as t/13): a description for a listed and
# an unlisted origin, HEAD, with a paid token, of a giveaway (the count
# read), not for sale (bitcache off, an internal location, back to the
# API), a path refused, the preflight allowed and refused, button.js, a
# client gone while Redis is stopped, Redis down. No invalid read, write,
# free or use of uninitialised memory.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP qw(decode_json);
use IO::Socket::INET;
use Time::HiRes qw(sleep);
use BcTest;

plan skip_all => 'valgrind not installed' unless `which valgrind` =~ /valgrind/;
plan skip_all => 'module or tools not built (make all unit)'
    unless -f $BcTest::MODULE && -x $BcTest::CLI;

my $t = BcTest->new;
$t->start_redis;
my $data = $t->make_file('films/a.bin', 20_000);
$t->make_file('g/b.bin', 1_000);
$t->make_file('plain/c.txt', 100);
$t->make_file('secret/d.bin', 100);
$t->{http_port} = BcTest::free_port();
my $h2 = BcTest::free_port();
my $origin = 'http://creator.example';
my $http = $t->selling_http(<<"LOC");
        listen 127.0.0.1:$h2 http2;
        location /films/ { bitcache on; }
        location /g/ { bitcache on; bitcache_free_first 2; }
        location /plain/ { }
        location /secret/ { internal; bitcache on; }
        location /ret/ { internal; return 200 "internal"; }
        bitcache_cors_origins $origin;
LOC
my $conf = $t->write_file('nginx.conf', "master_process off;\ndaemon off;\n" . $t->nginx_conf($http));
$t->start_nginx_valgrind($conf);

sub req { $t->raw(@_) }
sub acao { ($_[0]{headers}{'access-control-allow-origin'} || [])->[0] }

my $r = req('GET', '/bitcache/products/films/a.bin', undef, Origin => $origin);
is($r->{status}, 200, 'described');
is(acao($r), $origin, '... for the listed origin');
is(decode_json($r->{content})->{price_sats}, 12345, '... its price');
$r = req('GET', '/bitcache/products/films/a.bin', undef, Origin => 'http://other.example');
ok($r->{status} == 200 && !acao($r), 'an unlisted origin: no CORS header');
is(req('HEAD', '/bitcache/products/films/a.bin', undef)->{status}, 200, 'HEAD');
my $token = $t->grant('/films/a.bin', '--uses', 3);
$r = req('GET', '/bitcache/products/films/a.bin', undef, Cookie => "bitcache_token=$token");
ok($r->{status} == 200 && index($r->{content}, substr($data, 0, 64)) < 0, 'with a token: described');
is(decode_json(req('GET', '/bitcache/products/g/b.bin', undef)->{content})->{free_left}, 2,
   'a giveaway: the count read');
for my $p ('plain/c.txt', 'secret/d.bin', 'ret/x', 'ret/', 'bitcache/products/films/a.bin', 'nowhere') {
    is(req('GET', "/bitcache/products/$p", undef, Origin => $origin)->{status}, 404, "$p: not for sale");
}
is(req('HEAD', '/bitcache/products/ret/x', undef)->{status}, 404, 'HEAD to an internal `return`: 404');
is(req('GET', '/bitcache/products/films/a.bin', undef, 'If-None-Match' => '*')->{status}, 200,
   'If-None-Match: * : 200');
is(req('GET', '/bitcache/products/films/%01', undef)->{status}, 404, 'a control byte: refused');
is(req('OPTIONS', '/bitcache/products/films/a.bin', undef, Origin => $origin)->{status}, 204,
   'preflight: 204');
is(req('OPTIONS', '/bitcache/products/films/a.bin', undef, Origin => 'null')->{status}, 403,
   'preflight: 403');
is(req('POST', '/bitcache/products/films/a.bin', '')->{status}, 405, 'POST: 405');
is(req('GET', '/bitcache/button.js', undef)->{status}, 200, 'button.js');
is(req('GET', '/films/a.bin?bitcache_describe=1', undef)->{status}, 402, 'an outside describe: 402');

# HTTP/2: streams reset while the description waits for Redis (the
# catalog and the giveaway's count), and the connection dropped
{
    my @p = map { ('/bitcache/products/films/a.bin', '/bitcache/products/g/b.bin',
                   '/bitcache/products/ret/x', '/bitcache/products/plain/c.txt') } 1 .. 5;
    my $out = `node $BcTest::ROOT/t/h2-buys.js $h2 x 2 0 @p 2>&1`;
    like($out, qr/^[0-9 ]+$/, 'HTTP/2: every other stream reset');
    $out = `node $BcTest::ROOT/t/h2-buys.js $h2 x 0 30 @p @p 2>&1`;
    like($out, qr/^[0-9 ]+$/, 'HTTP/2: the connection dropped');
}

# a client that goes away while Redis is stopped (the catalog read times out)
$t->redis_signal('STOP');
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->{http_port}) or die;
print $s "GET /bitcache/products/films/a.bin HTTP/1.1\r\nHost: x\r\nOrigin: $origin\r\n\r\n";
sleep 0.3;
close $s;
sleep 3;
$t->redis_signal('CONT');
sleep 0.5;
$t->stop_redis;
$r = req('GET', '/bitcache/products/films/a.bin', undef, Origin => $origin);
is($r->{status}, 503, 'Redis down: 503');

$t->stop_nginx_valgrind;
$t->check_log_clean;
done_testing;
