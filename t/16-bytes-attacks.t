#!/usr/bin/perl
# Attacks on the byte accounting (docs/protocol.md, "What a request draws")
# through real nginx and redis-server, by a buyer who holds a token and
# wants more than max_downloads x the file: racing first draws of a file,
# error_page and gzip_static turning a drawn response into more than was
# drawn. t/15-bytes.t covers the usual flows.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use IO::Socket::INET;
use BcTest;
use TokenRef;

my $t = BcTest->new;
$t->start_redis;
my $a = $t->make_file('album/a.bin', 256 * 1024);
my $b = $t->make_file('album/b.bin', 100_000);
my $txt = 'hello bitcache ' x 20000;
$t->write_file('html/gz/text.txt', $txt);
system('gzip', '-k', '-9', $t->dir . '/html/gz/text.txt') == 0 or die 'gzip';
my $gz = do { local $/; open my $f, '<', $t->dir . '/html/gz/text.txt.gz' or die; binmode $f; <$f> };
my $s = $t->make_file('files/s.bin', 100_000);
my $h2 = BcTest::free_port();
my $ms = BcTest::free_port();
$t->start_nginx(<<"CONF", workers => 2);
    bitcache_redis %%REDIS%% timeout=2s;
    server {
        listen 127.0.0.1:$ms;
        root %%DIR%%/html;
        bitcache_secret %%DIR%%/secret;
        merge_slashes off;
        location /album/ { bitcache on; bitcache_product album; }
    }
    server {
        listen 127.0.0.1:$h2 http2;
        root %%DIR%%/html;
        bitcache_secret %%DIR%%/secret;
        location /files/ { bitcache on; }
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%DIR%%/html;
        bitcache_secret %%DIR%%/secret;
        location /album/ {
            bitcache on;
            bitcache_product album;
            error_page 404 /album/a.bin;
        }
        location /gz/ { bitcache on; bitcache_product gz; gzip_static on; }
        location /files/ { bitcache on; }
    }
CONF

my $dir = $t->dir;

sub parallel {
    my ($n, $path, $tok) = @_;
    my $dir = $t->dir . "/par" . int(rand(1e9));
    mkdir $dir;
    my @args = ('curl', '-s', '--no-progress-meter', '--parallel', '--parallel-immediate',
                '--parallel-max', $n);
    push @args, '-o', "$dir/$_", '-w', '%{http_code} %{filename_effective}\n',
        $t->url("$path?bitcache_token=$tok") for 1 .. $n;
    open my $p, '-|', @args or die;
    my %code = map { /^(\d+) (.*)$/ ? ($2 => $1) : () } <$p>;
    close $p;
    return \%code;
}

sub slurp { my ($f) = @_; open my $h, '<', $f or return ''; binmode $h; local $/; <$h> // '' }

# --- racing first draws of a file (its counter not made at mint) -------------
# Each racing request's HINCRBY made the counter below LIVE; the script of the
# first reset it to LIVE + its own bytes, forgetting the others': all 20 passed.
my $tok = $t->grant('album', '--uses', 1);
my $code = parallel(20, '/album/a.bin', $tok);
my @ok = grep { $code->{$_} eq '200' } keys %$code;
is(scalar @ok, 1, '20 racing first GETs of a file of a product, 1 download: one 200');
is(scalar(grep { $code->{$_} eq '402' } keys %$code), 19, 'the other 19: 402');
is(scalar(grep { slurp($_) eq $a } @ok), 1, 'one whole file delivered');
is($t->drawn_settled($tok, 'a.bin'), length $a, 'and drawn');

$tok = $t->grant('album', '--uses', 3);
$code = parallel(20, '/album/b.bin', $tok);
is(scalar(grep { $code->{$_} eq '200' && slurp($_) eq $b } keys %$code), 3,
   '3 downloads: three of 20 racing first GETs get the file');
is($t->drawn_settled($tok, 'b.bin'), 3 * length $b, 'three drawn');

# --- one file under several URIs ----------------------------------------------
# with merge_slashes off, /album//a.bin is /album/a.bin: it had its own counter
$tok = $t->grant('album', '--uses', 1);
my $msurl = "http://127.0.0.1:$ms/album";
is(`curl -s -o /dev/null -w '%{http_code}' '$msurl/a.bin?bitcache_token=$tok'`, '200',
   'merge_slashes off: the file');
for my $u ('//a.bin', '///a.bin') {
    is(`curl -s -o /dev/null -w '%{http_code}' --path-as-is '$msurl$u?bitcache_token=$tok'`, '402',
       "then $u: 402");
}

# --- error_page: a response with the error's status carrying a paid file -----
# error_page 404 /album/a.bin (no "="): the file went out as a 404, and a
# response that was not 200/206 counted nothing: all of it was given back.
$tok = $t->grant('album', '--uses', 1);
my $files = 0;
for (1 .. 3) {
    my $r = $t->get('/album/missing', Cookie => "bitcache_token=$tok");
    $files++ if $r->{content} eq $a;
}
is($files, 1, 'error_page 404 to a paid file, 1 download: the file once in 3');
is($t->drawn_settled($tok, 'a.bin'), length $a, 'drawn');

# --- gzip_static: file.gz is not the file's bytes -------------------------------
# a range of the original's length covered the whole (smaller) .gz: the
# compressed file for 639 bytes of a 300000-byte allowance, hundreds of times
$tok = $t->grant('gz', '--uses', 1);
my $gzlen = length $gz;
for (1 .. 3) {
    my $r = $t->get("/gz/text.txt?bitcache_token=$tok", 'Accept-Encoding' => 'gzip',
                    Range => 'bytes=0-' . ($gzlen - 1));
    isnt($r->{content}, $gz, "gzip_static, a range the size of the .gz: not the .gz ($r->{status})");
}
is($t->drawn_settled($tok), 0, 'nothing stays drawn');
my $r = $t->get("/gz/text.txt?bitcache_token=$tok", 'Accept-Encoding' => 'gzip');
is($r->{status}, 200, 'gzip_static, the whole file: 200');
is($r->{content}, $gz, 'the .gz');
is($t->drawn_settled($tok), length $txt, 'drew the whole file');
is($t->get("/gz/text.txt?bitcache_token=$tok", 'Accept-Encoding' => 'gzip')->{status}, 402,
   'then 402');

# --- a chain of cuts, each resume using the credit the last one left ----------
# (a credit is the drawn part of a cut response, sent again undrawn once, at
# most 16 MiB): resumed from 16 MiB before each credit's end and cut again, a
# file allowed once went out nearly twice (87 MB of 48 MiB). Now a file is
# sent again undrawn at most 64 MiB in all.
my $L = 160 * 1024 * 1024;
truncate($t->write_file('html/files/big.bin', ''), $L) or die;
$tok = $t->grant('/files/big.bin', '--uses', 1);
my $tid = TokenRef::parse_token($tok)->{id};
my ($got, $from) = (0, 0);
for my $i (1 .. 60) {
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->{http_port}) or die;
    print $sock "GET /files/big.bin?bitcache_token=$tok HTTP/1.1\r\nHost: x\r\nRange: bytes=$from-\r\nConnection: close\r\n\r\n";
    my ($buf, $n) = ('', 0);
    while ($n < 24_000_000) { my $k = sysread($sock, $buf, 1 << 20) or last; $n += $k }
    close $sock;
    last if $n < 1000;              # a 402
    $got += $n;
    $t->drawn_settled($tok);
    my ($c0, $c1) = ($t->redis('HGET', "bitcache:tok:$tid", 'c:/files/big.bin') // '') =~ /^(\d+)-(\d+)$/
        or last;
    $from = $c1 - 16 * 1024 * 1024 > $c0 ? $c1 - 16 * 1024 * 1024 : $c0;
}
cmp_ok($got, '<=', $L + 64 * 1024 * 1024 + 100_000,
       "cut and resumed again and again: $got bytes, at most the file and 64 MiB");
cmp_ok($t->drawn_settled($tok, 'big.bin'), '<=', $L, 'never more than the allowance drawn');

# --- defences that hold ----------------------------------------------------------
# HTTP/2 (h2c): a stream's bytes are counted like a connection's
$tok = $t->grant('/files/s.bin', '--uses', 1);
my $h2url = "http://127.0.0.1:$h2/files/s.bin?bitcache_token=$tok";
my $out = `curl -s --http2-prior-knowledge -o $dir/h2.out -w '%{http_code} %{http_version}' '$h2url'`;
is($out, '200 2', 'HTTP/2: 200');
is(slurp("$dir/h2.out"), $s, 'the file');
is($t->drawn_settled($tok), length $s, 'drawn');
is(`curl -s --http2-prior-knowledge -o /dev/null -w '%{http_code}' -r 1- '$h2url'`, '402',
   'HTTP/2: then 402 for bytes=1-');

# requests pipelined on one connection: each counts its own bytes (the bytes
# sent are the connection's, reset for each request)
sub pipelined {
    my (@reqs) = @_;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->{http_port}) or die;
    print $sock join '', @reqs;
    my $buf = '';
    while (sysread($sock, $buf, 65536, length $buf)) { }
    return [ $buf =~ m{HTTP/1\.1 (\d{3}) }g ];
}
$tok = $t->grant('/files/s.bin', '--uses', 2);
my $get = "GET /files/s.bin?bitcache_token=$tok HTTP/1.1\r\nHost: x\r\n";
my @reqs = (("$get\r\n") x 3, "${get}Range: bytes=0-0,-1\r\nConnection: close\r\n\r\n");
is(join(' ', @{ pipelined(@reqs) }),
   '200 200 402 402', 'pipelined, 2 downloads: two 200, then 402 for the file and bytes=0-0,-1');
is($t->drawn_settled($tok), 2 * length $s, 'two files drawn');
$tok = $t->grant('/files/s.bin', '--uses', 1);
$get = "GET /files/s.bin?bitcache_token=$tok HTTP/1.1\r\nHost: x\r\n";
@reqs = ("HEAD /files/s.bin?bitcache_token=$tok HTTP/1.1\r\nHost: x\r\n\r\n", "$get\r\n",
            "${get}Range: bytes=1-\r\n\r\n", "GET /files/s.bin?bitcache_token=$tok HTTP/1.0\r\n\r\n");
is(join(' ', @{ pipelined(@reqs) }),
   '200 200 402 402', 'keep-alive: HEAD, GET, then 402 for bytes=1- and for HTTP/1.0');
is($t->drawn_settled($tok), length $s, 'one file drawn');

# two Range headers: nginx and the draw read the same (the first)
$tok = $t->grant('/files/s.bin', '--uses', 1);
$r = $t->get("/files/s.bin?bitcache_token=$tok", Range => ['bytes=0-0', 'bytes=0-']);
is(length $r->{content}, 1, 'two Range headers: the first one is sent');
is($t->drawn_settled($tok), 1, 'and drawn');

# a bad token in the query is not overridden by a good one in a cookie
$tok = $t->grant('/files/s.bin', '--uses', 1);
is($t->get('/files/s.bin?bitcache_token=x', Cookie => "bitcache_token=$tok")->{status}, 402,
   'a bad query token and a good cookie: 402');

# a Redis writer's counter that is not a number: 503 with Retry-After, never the file
my $id = TokenRef::parse_token($tok)->{id};
$t->redis('HSET', "bitcache:tok:$id", 'b:/files/s.bin', 'abc');
$r = $t->get("/files/s.bin?bitcache_token=$tok");
is($r->{status}, 503, 'a counter that is not a number: 503');
ok($r->{headers}{'retry-after'}, 'with Retry-After');
$t->redis('DEL', "bitcache:tok:$id");
$t->redis('SET', "bitcache:tok:$id", 'x');
is($t->get("/files/s.bin?bitcache_token=$tok")->{status}, 503, 'a record of the wrong type: 503');
$t->redis('DEL', "bitcache:tok:$id");
is($t->get("/files/s.bin?bitcache_token=$tok")->{status}, 402, 'no record: 402');
is($t->redis('EXISTS', "bitcache:tok:$id"), 0, 'and none is left behind');

$t->stop_nginx;
$t->check_log_clean;
done_testing;
