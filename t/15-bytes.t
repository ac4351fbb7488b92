#!/usr/bin/perl
# Downloads are counted in bytes (docs/protocol.md): a token allows
# max_downloads x each file's size; every response draws what it will send
# before sending it, and gives back what it did not send when it ends.
# Ranges, resumes, parallel segments, races, HEAD, 304, multi-file
# products, revoke/restore and filters downstream, through real nginx and
# redis-server; bytes received are compared with the file.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Digest::SHA qw(sha256_hex);
use IO::Socket::INET;
use Time::HiRes qw(sleep time);
use BcTest;
use TokenRef;

my $t = BcTest->new;
$t->start_redis;
my $small = $t->make_file('files/small.bin', 100_000);
# larger than socket buffers can hold, so that nginx itself sees the cuts
# (a response wholly handed to the kernel is sent, as far as nginx can know)
my $big = $t->make_file('files/big.bin', 48 * 1024 * 1024);
my $race = $t->make_file('files/race.bin', 256 * 1024);
my $seg = $t->make_file('files/seg.bin', 3 * 1024 * 1024 + 7);
my $a = $t->make_file('album/a.bin', 50_000);
my $b = $t->make_file('album/b.bin', 70_000);
my $txt = $t->make_file('gz/text.bin', 0) . ('hello bitcache ' x 10000);
$t->write_file('html/gz/text.txt', $txt);
my $one = $t->make_file('one/file.bin', 20_000);
$t->write_file('html/free/page.html', "before<!--# include virtual=\"/files/small.bin\" -->after");
$t->start_nginx(<<'CONF', workers => 2);
    bitcache_redis %%REDIS%% timeout=2s;
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%DIR%%/html;
        bitcache_secret %%DIR%%/secret;
        location /files/ { bitcache on; }
        location /album/ { bitcache on; bitcache_product album; }
        location /gz/ {
            bitcache on;
            gzip on; gzip_types *; gzip_min_length 1;
        }
        location /one/ { bitcache on; max_ranges 0; }
        location /free/ { ssi on; }
    }
CONF

my $L = length $big;
sub get { my ($path, $tok, %h) = @_; $t->get("$path?bitcache_token=$tok", %h) }

# --- N full downloads, then 402 for anything that would send bytes ----------
my $tok = $t->grant('/files/small.bin', '--uses', 2);
for my $i (1, 2) {
    my $r = get('/files/small.bin', $tok);
    is($r->{status}, 200, "download $i: 200");
    is($r->{content}, $small, "download $i: the file");
}
is($t->drawn_settled($tok), 2 * length $small, 'two files drawn');
for my $range (undef, 'bytes=1-', 'bytes=0-0', 'bytes=-1', 'bytes=5-9,20-29', 'bytes=99999-') {
    my $r = get('/files/small.bin', $tok, $range ? (Range => $range) : ());
    is($r->{status}, 402, 'allowance spent: 402 for ' . ($range // 'the file'));
    like($r->{content}, qr/downloads used up/, 'and says why');
}
my $r = $t->http('HEAD', "/files/small.bin?bitcache_token=$tok");
is($r->{status}, 200, 'HEAD still answers: it sends no bytes');
is($r->{headers}{'content-length'}, length $small, 'with the length');
$r = get('/files/small.bin', $tok, Range => 'bytes=100000-');
is($r->{status}, 416, 'an unsatisfiable range sends nothing: 416, not 402');
$r = get('/files/small.bin', $tok, 'If-None-Match' => $r->{headers}{etag} // 'x');
my $etag0 = $t->http('HEAD', "/files/small.bin?bitcache_token=$tok")->{headers}{etag};
is(get('/files/small.bin', $tok, 'If-None-Match' => $etag0)->{status}, 304,
   'a revalidation nginx answers 304 sends nothing: 304, not 402');
is(get('/files/small.bin', $tok, 'If-None-Match' => '"other"')->{status}, 402,
   'one it would answer with the file: 402');
is(get('/files/small.bin', $tok, 'If-Match' => '"other"')->{status}, 412,
   'a failed If-Match sends nothing: 412');
is($t->drawn_settled($tok), 2 * length $small, 'nothing more drawn');

# --- the range that today's code gave away ------------------------------------
$tok = $t->grant('/files/small.bin', '--uses', 1);
$r = get('/files/small.bin', $tok, Range => 'bytes=1-');
is($r->{status}, 206, 'bytes=1-: 206');
is($r->{content}, substr($small, 1), 'the file but its first byte');
is($t->drawn_settled($tok), length($small) - 1, 'drew all it sent');
$r = get('/files/small.bin', $tok, Range => 'bytes=0-0');
is($r->{status}, 206, 'the first byte: 206');
is($r->{content}, substr($small, 0, 1), 'one byte');
for my $range ('bytes=1-', 'bytes=0-0', 'bytes=-1') {
    is(get('/files/small.bin', $tok, Range => $range)->{status}, 402, "then $range: 402");
}

# --- HEAD and 304 draw nothing -----------------------------------------------
$tok = $t->grant('/files/small.bin', '--uses', 1);
$r = $t->http('HEAD', "/files/small.bin?bitcache_token=$tok");
is($r->{status}, 200, 'HEAD: 200');
my ($etag, $lm) = ($r->{headers}{etag}, $r->{headers}{'last-modified'});
is(get('/files/small.bin', $tok, 'If-None-Match' => $etag)->{status}, 304, 'If-None-Match: 304');
is(get('/files/small.bin', $tok, 'If-Modified-Since' => $lm)->{status}, 304, 'If-Modified-Since: 304');
is($t->drawn_settled($tok), 0, 'HEAD and 304 drew nothing');
is(get('/files/small.bin', $tok)->{content}, $small, 'the download is still whole');

# --- a download cut half-way and resumed costs one file ----------------------
# a client that reads $want bytes of the body, then closes the socket
sub cut_download {
    my ($tok, $want) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->{http_port}) or die;
    print $s "GET /files/big.bin?bitcache_token=$tok HTTP/1.1\r\nHost: x\r\n\r\n";
    my $buf = '';
    while (length $buf < $want) { sysread($s, $buf, 65536, length $buf) or last }
    close $s;
    my ($head, $body) = split /\r\n\r\n/, $buf, 2;
    like($head, qr{^HTTP/1.1 200}, 'the download started');
    return $body;
}

$tok = $t->grant('/files/big.bin', '--uses', 1);
my $body = cut_download($tok, 4_000_000);
my $part = $t->dir . '/big.part';
$t->write_file('big.part', $body);
my $got = length $body;
ok($got > 0 && $got < $L, "cut after $got of $L bytes");
my $drawn = $t->drawn_settled($tok, 'big.bin');
cmp_ok($drawn, '<', $L, "the bytes not sent were given back ($drawn drawn)");
cmp_ok($drawn, '>=', $got, 'what was received was drawn');
system('curl', '-s', '-C', '-', '-o', $part, $t->url("/files/big.bin?bitcache_token=$tok"));
is($? >> 8, 0, 'curl -C - finishes the download');
is(-s $part, $L, 'the whole length');
is(sha256_hex(do { open my $f, '<', $part; binmode $f; local $/; <$f> }), sha256_hex($big),
   'the resumed file equals the original');
is($t->drawn_settled($tok, 'big.bin'), $L, 'the cut and the resume cost one file');
is(get('/files/big.bin', $tok, Range => 'bytes=1-')->{status}, 402, 'and nothing is left');

# curl itself cut by --max-time while slowed down, then resumed twice
# (-f: an error page is never appended to the file; the refund of a cut lands
# within milliseconds, which each resume here waits for as a user would).
# What a slowed curl leaves unread in loopback's socket buffers (up to tens
# of MiB, more under load) nginx counts as sent: the resume credit gives
# most of it back, not always all, so this buyer has two downloads and the
# check is that the file completes within them (the exact "cut and resumed
# costs one" is the socket case above and below).
$tok = $t->grant('/files/big.bin', '--uses', 2);
unlink $part;
system('curl', '-sf', '--limit-rate', '1M', '--max-time', '1', '-o', $part,
       $t->url("/files/big.bin?bitcache_token=$tok"));
for (1, 2) {
    $t->drawn_settled($tok);
    system('curl', '-sf', '-C', '-', '--limit-rate', '2M', '--max-time', '1', '-o', $part,
           $t->url("/files/big.bin?bitcache_token=$tok"));
    diag "curl exit " . ($? >> 8) . ", " . (-s $part) . " bytes" if $ENV{BC_DEBUG};
}
$t->drawn_settled($tok);
system('curl', '-sf', '-C', '-', '-o', $part, $t->url("/files/big.bin?bitcache_token=$tok"));
is(sha256_hex(do { open my $f, '<', $part; binmode $f; local $/; <$f> }), sha256_hex($big),
   'cut by curl three times and resumed: the file');
$drawn = $t->drawn_settled($tok, 'big.bin');
ok($drawn >= $L && $drawn <= 2 * $L, "at least one file drawn, within the two allowed ($drawn of $L)");

# a socket closed mid-body, resumed by a range from what it had read
$tok = $t->grant('/files/big.bin', '--uses', 1);
$body = cut_download($tok, 1_000_000);
$drawn = $t->drawn_settled($tok, 'big.bin');
cmp_ok($drawn, '<', $L, "closed mid-body: the rest given back ($drawn drawn)");
$r = get('/files/big.bin', $tok, Range => 'bytes=' . length($body) . '-');
is($r->{status}, 206, 'resumed from what it read');
is(sha256_hex($body . $r->{content}), sha256_hex($big), 'the pieces make the file');
is($t->drawn_settled($tok, 'big.bin'), $L, 'one file drawn');

# the resend credit is used once: a second resume of the same bytes draws them
$r = get('/files/big.bin', $tok, Range => 'bytes=' . length($body) . '-');
is($r->{status}, 402, 'the same part again: 402');

# bytes sent again undrawn make no new credit: cutting a resume over and
# over never yields a whole file for nothing
$tok = $t->grant('/files/big.bin', '--uses', 1);
$body = cut_download($tok, 2_000_000);
my $first = $t->drawn_settled($tok, 'big.bin');
for (1 .. 3) {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->{http_port}) or die;
    print $s "GET /files/big.bin?bitcache_token=$tok HTTP/1.1\r\nHost: x\r\nRange: bytes=1000000-\r\n\r\n";
    my $buf = '';
    sysread($s, $buf, 65536);
    close $s;
    $t->drawn_settled($tok, 'big.bin');
}
$r = get('/files/big.bin', $tok, Range => 'bytes=1000000-');
cmp_ok($t->drawn_settled($tok, 'big.bin') + 0, '>=', $L - 1_000_000,
       'resumes of the same part, cut again and again: at least the part drawn')
    if $r->{status} == 206;
is($t->drawn_settled($tok, 'big.bin') <= $L ? 1 : 0, 1, 'and never more than the allowance');

# Redis forgot the scripts (restarted, SCRIPT FLUSH) while a download ran:
# the fire-and-forget refund, then the draw's script, fall back to EVAL
$tok = $t->grant('/files/big.bin', '--uses', 1);
my $evals = $t->redis_calls('eval');
$t->redis('SCRIPT', 'FLUSH');
$body = cut_download($tok, 1_000_000);
cmp_ok($t->drawn_settled($tok, 'big.bin'), '<', $L, 'after NOSCRIPT: the refund still landed');
is($t->redis_calls('eval') - $evals, 1, 'the refund sent EVAL once');
$t->redis('SCRIPT', 'FLUSH');
$r = get('/files/big.bin', $tok);
is(sha256_hex($r->{content}), sha256_hex($big), 'the whole file again: the cut part is sent again undrawn');
is($t->redis_calls('eval') - $evals, 2, 'the script decided it, sent with EVAL after NOSCRIPT');
is($t->drawn_settled($tok, 'big.bin'), $L, 'one file drawn');
is(get('/files/big.bin', $tok)->{status}, 402, 'then 402');

# the hot path is one plain HINCRBY; a file not drawn from yet in a product of
# several files, and an allowance spent, ask the script
$tok = $t->grant('/files/small.bin', '--uses', 3);
my %before = map { $_ => $t->redis_calls($_) } qw(hincrby evalsha eval);
is(get('/files/small.bin', $tok)->{content}, $small, 'a download');
is($t->redis_calls('hincrby') - $before{hincrby}, 1, 'one HINCRBY');
is($t->redis_calls('evalsha') + $t->redis_calls('eval') - $before{evalsha} - $before{eval}, 0, 'no script');

# --- eight parallel segments (a download manager) cost one file --------------
$tok = $t->grant('/files/seg.bin', '--uses', 1);
my $n = length $seg;
my $step = int($n / 8) + 1;
my @args = ('curl', '-s', '--no-progress-meter', '--parallel', '--parallel-immediate', '--parallel-max', 8);
for my $i (0 .. 7) {
    my ($from, $to) = ($i * $step, ($i + 1) * $step - 1);
    $to = $n - 1 if $to > $n - 1;
    push @args, '--next' if $i;     # -r and -o for this URL only
    push @args, '-r', "$from-$to", '-o', $t->dir . "/seg$i", $t->url("/files/seg.bin?bitcache_token=$tok");
}
system(@args) == 0 or diag "curl: $?";
my $assembled = join '', map { do { open my $f, '<', $t->dir . "/seg$_"; binmode $f; local $/; <$f> // '' } } 0 .. 7;
is(sha256_hex($assembled), sha256_hex($seg), 'eight parallel ranges assemble into the file');
is($t->drawn_settled($tok), $n, 'and cost one file together');
is(get('/files/seg.bin', $tok, Range => 'bytes=0-0')->{status}, 402, 'nothing left after');

# --- racing requests never draw more than the allowance ------------------------
$tok = $t->grant('/files/race.bin', '--uses', 3);
my $dir = $t->dir . '/race';
mkdir $dir;
@args = ('curl', '-s', '--no-progress-meter', '--parallel', '--parallel-immediate', '--parallel-max', 20);
push @args, '-o', "$dir/$_", '-w', '%{http_code} %{filename_effective}\n', $t->url("/files/race.bin?bitcache_token=$tok") for 1 .. 20;
open my $p, '-|', @args or die;
my %code = map { /^(\d+) (.*)$/ ? ($2 => $1) : () } <$p>;
close $p;
is(scalar(grep { $_ eq '200' } values %code), 3, '3 of 20 parallel full GETs got 200');
is(scalar(grep { $_ eq '402' } values %code), 17, 'the other 17 got 402');
my $bytes = 0;
for my $f (grep { $code{$_} eq '200' } keys %code) {
    my $got = do { open my $h, '<', $f; binmode $h; local $/; <$h> } // '';
    $bytes += length $got if $got eq $race;
}
is($bytes, 3 * length $race, 'exactly three whole files delivered');
is($t->drawn_settled($tok), 3 * length $race, 'and drawn');

# --- a product of several files: an allowance per file -------------------------
$tok = $t->grant('album', '--uses', 1);
is(get('/album/a.bin', $tok)->{content}, $a, 'album: a');
is(get('/album/b.bin', $tok)->{content}, $b, 'album: b, its own allowance');
is(get('/album/a.bin', $tok)->{status}, 402, 'a again: 402');
is(get('/album/b.bin', $tok, Range => 'bytes=1-')->{status}, 402, 'b again: 402');
is($t->drawn_settled($tok, 'a.bin'), length $a, 'a drew its size');
is($t->drawn_settled($tok, 'b.bin'), length $b, 'b drew its size');
is(get('/album/missing.bin', $tok)->{status}, 404, 'a missing file: 404, nothing drawn');

# --- revoke, then restore: what was left stays left -----------------------------
$tok = $t->grant('/files/small.bin', '--uses', 2);
is(get('/files/small.bin', $tok)->{status}, 200, 'one of two downloads');
my $id = TokenRef::parse_token($tok)->{id};
my ($rc) = $t->cli('revoke', '--redis', $t->redis_addr, $tok);
is($rc, 0, 'revoked');
is(get('/files/small.bin', $tok, Range => 'bytes=5-')->{status}, 402, 'revoked: 402');
# the watcher's restore after a reorg (BC_SCRIPT_TOKEN_RESTORE, its arguments)
is($t->redis('EVAL', restore_script(), 1, "bitcache:tok:$id", (1 << 40) + 2), 1, 'restored');
is(get('/files/small.bin', $tok)->{status}, 200, 'restored: the download left');
is(get('/files/small.bin', $tok)->{status}, 402, 'and no more: not all of them again');

# --- downstream filters never send more than was drawn ---------------------------
# If-Range that no longer matches would turn a range into the whole file
$tok = $t->grant('/files/small.bin', '--uses', 1);
$r = get('/files/small.bin', $tok, Range => 'bytes=100-199', 'If-Range' => '"stale"');
ok(length($r->{content}) < length($small), "stale If-Range: no whole file (status $r->{status})");
like($t->error_log, qr/would carry 100000 bytes, 100 were drawn: no body sent/, 'logged');
is($t->drawn_settled($tok), 0, 'and nothing stays drawn');
$r = get('/files/small.bin', $tok, Range => 'bytes=100-199', 'If-Range' => $etag);
is($r->{content}, substr($small, 100, 100), 'a matching If-Range: the range');

# max_ranges 0: nginx sends the whole file, so a range draws the whole file
$tok = $t->grant('/one/file.bin', '--uses', 1);
$r = get('/one/file.bin', $tok, Range => 'bytes=10-19');
is($r->{status}, 200, 'max_ranges 0: 200');
is($r->{content}, $one, 'the file');
is($t->drawn_settled($tok), length $one, 'drew the file');
is(get('/one/file.bin', $tok, Range => 'bytes=10-19')->{status}, 402, 'then 402');

# gzip: a whole file, compressed, counts whole; a range it would turn into the file gets no body
$tok = $t->grant('/gz/text.txt', '--uses', 2);
$r = get('/gz/text.txt', $tok, 'Accept-Encoding' => 'gzip');
is($r->{headers}{'content-encoding'}, 'gzip', 'gzip on');
is($t->drawn_settled($tok), length $txt, 'a gzipped download draws the whole file');
$r = get('/gz/text.txt', $tok, 'Accept-Encoding' => 'gzip', Range => 'bytes=10-19');
ok(!$r->{headers}{'content-encoding'} || length($r->{content}) == 0,
   'a range gzip would send whole: no body') or diag "status $r->{status}";
is($t->drawn_settled($tok), length $txt, 'and nothing more stays drawn');

# --- bitcache invoice show reads the token record through the same parser ---------
{
    use Digest::SHA qw(hmac_sha256);
    my $inv = 'ab' x 16;
    my $tkey = hmac_sha256('bitcache/v1/token', $t->secret_bytes);
    my $tid = unpack('H32', hmac_sha256("token-id\0" . pack('H*', $inv), $tkey));
    $t->redis('HSET', "bitcache:inv:$inv", 'v', 1);
    $t->redis('HSET', "bitcache:tok:$tid", uses => 2, product => "album", expires => int(time) + 60,
              "b:/srv/a\nb.bin" => (1 << 50) + 1234, "c:/srv/a\nb.bin" => '0-10', revoked => 1);
    my ($rc, $out) = $t->cli('invoice', 'show', '--redis', $t->redis_addr,
                             '--secret', $t->dir . '/secret', $inv);
    like($out, qr/^token record $tid: 2 downloads of each file, revoked$/m, 'invoice show: the token record');
    like($out, qr{^  /srv/a\?b\.bin: 1234 bytes drawn$}m, 'and the bytes drawn per file (names kept on one line)');
    $t->redis('HSET', "bitcache:tok:$tid", uses => 'two');
    ($rc, $out) = $t->cli('invoice', 'show', '--redis', $t->redis_addr,
                          '--secret', $t->dir . '/secret', $inv);
    like($out, qr/^token record $tid: malformed, "uses" is not a number/m, 'a malformed record says so');
}

# --- a subrequest runs no access phase: a paid file is never its body ------------
$r = $t->get('/free/page.html');
unlike($r->{content}, qr/\Q@{[substr($small, 0, 64)]}\E/, 'SSI of a paid file: none of its bytes');
like($t->error_log, qr{"/files/small.bin" refused to a subrequest}, 'logged');

# --- Redis down: 503, never a free file -------------------------------------------
$tok = $t->grant('/files/small.bin', '--uses', 1);
$t->stop_redis;
$r = get('/files/small.bin', $tok);
is($r->{status}, 503, 'Redis down: 503');
ok($r->{headers}{'retry-after'}, 'with Retry-After');
unlike($r->{content}, qr/\Q@{[substr($small, 0, 32)]}\E/, 'no file bytes');

$t->stop_nginx;
$t->check_log_clean;
done_testing;

sub restore_script {
    open my $h, '<', "$BcTest::ROOT/libbitcache/token_record.h" or die;
    my $src = do { local $/; <$h> };
    $src =~ /#define BC_SCRIPT_TOKEN_RESTORE\s*\\\n(.*?)\n\n/s or die 'no RESTORE script';
    my $body = $1;
    my $lua = '';
    $lua .= eval($1) while $body =~ /("(?:[^"\\]|\\.)*")/g;
    return $lua;
}
