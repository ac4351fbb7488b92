#!/usr/bin/perl
# The sealed files' opener's routes under valgrind (nginx in one process,
# as t/13): GET and HEAD of <api>/open (the page rendered with its nonce and
# CSP), open.js and open-sw.js, other methods (405), a body sent with GET,
# the worker's URLs without the worker (404), over HTTP/1.1 and HTTP/2
# with streams reset and the connection dropped. No invalid read, write,
# free or use of uninitialised memory.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use BcTest;

plan skip_all => 'valgrind not installed' unless `which valgrind` =~ /valgrind/;
plan skip_all => 'module or tools not built (make all unit)'
    unless -f $BcTest::MODULE && -x $BcTest::CLI;

my $t = BcTest->new;
$t->start_redis;
$t->{http_port} = BcTest::free_port();
my $h2 = BcTest::free_port();
my $http = $t->selling_http(<<"LOC");
        listen 127.0.0.1:$h2 http2;
        location /films/ { bitcache on; }
LOC
my $conf = $t->write_file('nginx.conf', "master_process off;\ndaemon off;\n" . $t->nginx_conf($http));
$t->start_nginx_valgrind($conf);

sub req { $t->raw(@_) }

my $r = req('GET', '/bitcache/open', undef);
is($r->{status}, 200, 'the page');
like($r->{content}, qr/<script nonce="[A-Za-z0-9_-]{22}" src="\/bitcache\/open.js">/, '... with its nonce');
like(($r->{headers}{'content-security-policy'} || [])->[0] // '', qr/worker-src 'self'; frame-src 'self'/,
     '... and its CSP');
is(req('HEAD', '/bitcache/open', undef)->{status}, 200, 'HEAD of the page');
is(req('GET', '/bitcache/open', 'x' x 5000)->{status}, 200, 'a body with GET: read and dropped');
for my $js ('open.js', 'open-sw.js') {
    $r = req('GET', "/bitcache/$js", undef);
    ok($r->{status} == 200 && length $r->{content} > 1000, "$js");
    is(req('HEAD', "/bitcache/$js", undef)->{status}, 200, "HEAD $js");
    is(req('POST', "/bitcache/$js", 'x')->{status}, 405, "POST $js: 405");
}
is(req($_, '/bitcache/open', 'x')->{status}, 405, "$_ of the page: 405") for qw(POST PUT DELETE);
is(req('GET', '/bitcache/open/save/0123/x.bin', undef)->{status}, 404, 'the worker\'s URL: 404');
is(req('GET', '/bitcache/open/', undef)->{status}, 404, '<api>/open/: 404');

{
    my @p = map { ('/bitcache/open', '/bitcache/open.js', '/bitcache/open-sw.js') } 1 .. 5;
    my $out = `node $BcTest::ROOT/t/h2-buys.js $h2 x 2 0 @p 2>&1`;
    like($out, qr/^[0-9 ]+$/, 'HTTP/2: every other stream reset');
    $out = `node $BcTest::ROOT/t/h2-buys.js $h2 x 0 30 @p @p 2>&1`;
    like($out, qr/^[0-9 ]+$/, 'HTTP/2: the connection dropped');
}

$t->stop_nginx_valgrind;
$t->check_log_clean;
done_testing;
