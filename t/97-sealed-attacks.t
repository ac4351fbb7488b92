#!/usr/bin/perl
# Attack review of #13 (sealed files), the key route and `bitcache open`:
# each attack asserts the safe outcome; the ones that work are TODO tests
# with the reason. Buyer (another product's token, revoked), a Redis writer
# (records swapped, types changed, SCRIPT FLUSH), URL tricks, operator
# configurations around the product's location (auth_basic, deny,
# try_files), and a lying host seen by `bitcache open`.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use BcTest;
use TokenRef;
use MIME::Base64 ();
use IO::Socket::INET;
use POSIX ();

plan skip_all => 'module or CLI not built (make all)'
    unless -f $BcTest::MODULE && -x $BcTest::CLI;

my $t = BcTest->new;
$t->start_redis;
my $dir = $t->dir;
$t->{http_port} = BcTest::free_port();
my $api = "http://127.0.0.1:$t->{http_port}/bitcache";
my $fake = "http://127.0.0.1:$t->{http_port}/fake";

my %file = (
    a   => $t->make_file('films/a.bin', 20_000),
    b   => $t->make_file('films/b.bin', 3_000),
    m   => $t->make_file('members/m.bin', 2_000),
    d   => $t->make_file('denied/d.bin', 2_000),
    y   => $t->make_file('any/y.bin', 2_000),
    vc  => $t->make_file('v/cheap.bin', 1_000),
    ve  => $t->make_file('v/exp.bin', 1_000),
    f   => $t->make_file('films/f.bin', 2_000),
);
$t->write_file('htpasswd', "member:{PLAIN}pw\n");

my %id;
$id{a} = $t->seal('films/a.bin', "$dir/a.sealed", '/films/a.bin', $api);
$id{b} = $t->seal('films/b.bin', "$dir/b.sealed", '/films/b.bin', $api);
$id{m} = $t->seal('members/m.bin', "$dir/m.sealed", '/members/m.bin', $api);
$id{vc} = $t->seal('v/cheap.bin', "$dir/vc.sealed", '/v/cheap.bin', $api);
$id{ve} = $t->seal('v/exp.bin', "$dir/ve.sealed", '/v/exp.bin', $api);
$id{y} = $t->seal('any/y.bin', "$dir/y.sealed", '/any/y.bin', $api);
$id{d} = $t->seal('denied/d.bin', "$dir/d.sealed", '/denied/d.bin', $api);
# a copy whose header names a lying host
$id{f} = $t->seal('films/f.bin', "$dir/f.sealed", '/films/f.bin', $fake);

my $zero = '00' x 32;
my $lie = qq({"product":"/films/f.bin","key_id":"$id{f}","key":"$zero","fetches":1,"uses":1});
my $lie2 = qq({"product":"/films/a.bin","key_id":"$id{a}","key":"$zero","fetches":1,"uses":1});
$lie =~ s/"/\\"/g; $lie2 =~ s/"/\\"/g;

my $conf = $t->selling_http(<<LOC, price => 1000);
        location /films/ { bitcache on; }
        location /members/ { auth_basic "members"; auth_basic_user_file $dir/htpasswd; bitcache on; }
        location /denied/ { deny all; bitcache on; }
        location /any/ { satisfy any; allow 127.0.0.1; deny all; bitcache on; }
        location /tf/ { try_files \$uri /films/a.bin; bitcache on; }
        location /fake/keys/films/f.bin { default_type application/json; return 200 "$lie"; }
        location /fake/keys/films/g.bin { default_type application/json; return 200 "$lie2"; }
        location /fake/keys/ { return 302 /bitcache/keys/films/a.bin; }
        location /v/ { bitcache on; bitcache_product \$vprod; }
LOC
# a product named by a map: every file of /v/ sells as /v/cheap.bin
$conf =~ s/^(\s*server \{)/    map \$uri \$vprod { default \/v\/cheap.bin; }\n$1/m;
# a second host on the same Redis (same prefix) with a secret of its own
my $port2 = BcTest::free_port();
$t->write_file('secret2', scalar `$BcTest::CLI secret`, 0600);
{
    my ($srv) = $conf =~ /(    server \{.*\n    \}\n)/s or die 'no server block';
    $srv =~ s/%%PORT%%/$port2/;
    $srv =~ s{bitcache_secret %%DIR%%/secret;}{bitcache_secret %%DIR%%/secret2;};
    $conf .= $srv;
}
$t->start_nginx($conf);

sub json_of { my ($r) = @_; eval { decode_json($r->{content}) } || {} }
sub tok_id { TokenRef::parse_token($_[0])->{id} }
sub keys_count { $t->redis('HGET', 'bitcache:tok:' . tok_id($_[0]), 'keys') // 0 }
sub opens_to {
    my ($sealed, $key, $orig) = @_;
    return 0 unless defined $key;
    unlink "$dir/opened";
    my ($rc) = $t->cli('open', $sealed, '-o', "$dir/opened", '--key', $key);
    return 0 if $rc;
    open my $fh, '<:raw', "$dir/opened" or return 0;
    local $/;
    my $got = <$fh>;
    return defined $got && $got eq $orig;
}
sub key_get {
    my ($path, $token, %h) = @_;
    my $target = "/bitcache/keys$path" . (defined $token ? "?bitcache_token=$token" : '');
    return $t->raw('GET', $target, undef, %h);
}

# --- buyer: another product's token ----------------------------------------
my $tb = $t->grant('/films/b.bin', '--uses', 1);
my $r = key_get('/films/a.bin', $tb);
is($r->{status}, 402, 'token of b for the key of a: 402');
ok(!exists json_of($r)->{key}, 'token of b for a: no key');
is(keys_count($tb), 0, 'token of b for a: nothing counted');

# the cheap product's token through a try_files fallback to another file
$r = key_get('/tf/missing.bin', $tb);
isnt($r->{status}, 200, 'try_files fallback carrying the mark: no key');
ok(!exists json_of($r)->{key}, 'try_files fallback: no key');

# --- buyer: one fetch, then used up; revoked -------------------------------
$r = key_get('/films/b.bin', $tb);
is($r->{status}, 200, 'b with its token: 200');
my $key_b = json_of($r)->{key};
$r = key_get('/films/b.bin', $tb);
is($r->{status}, 402, 'second fetch of a 1-use token: 402');
is(json_of($r)->{reason}, 'downloads used up', 'second fetch: used up');

my $ta = $t->grant('/films/a.bin', '--uses', 3);
$t->cli('revoke', $ta, '--redis', $t->redis_addr);
$t->redis('HSET', 'bitcache:tok:' . tok_id($ta), 'revoked', 1);
$r = key_get('/films/a.bin', $ta);
is($r->{status}, 402, 'revoked token: 402');
ok(!exists json_of($r)->{key}, 'revoked token: no key');

# --- URL tricks --------------------------------------------------------------
my $ta2 = $t->grant('/films/a.bin', '--uses', 0);
for my $p ('/films%2Fa.bin', '/films/./a.bin', '/films//a.bin', '/x/../films/a.bin',
           '/films/a.bin%00', '/films/a.bin%3Fx', '//films/a.bin', '/films/%2e%2e/films/a.bin',
           '/films/a.bin/', '/bitcache/keys/films/a.bin', '/' . ('x' x 5000))
{
    $r = key_get($p, $ta2);
    # nginx normalises some of these to the very same path: a key for the
    # token's own product is fine; any other path's key is not
    my $j = json_of($r);
    ok(!exists $j->{key} || ($j->{product} // '') eq '/films/a.bin',
       "keys$p: no key of another path ($r->{status})");
}
for my $m ('POST', 'HEAD', 'PUT', 'OPTIONS') {
    $r = $t->raw($m, "/bitcache/keys/films/a.bin?bitcache_token=$ta2", $m eq 'POST' ? 'x' : undef);
    is($r->{status}, 405, "$m keys: 405");
    unlike($r->{content}, qr/"key"/, "$m keys: no key");
}
# the token by cookie and in the query: the query's (the cookie ignored)
$r = key_get('/films/a.bin', undef, Cookie => "bitcache_token=$tb");
is($r->{status}, 402, 'b\'s token in a cookie for a: 402');

# --- operator configurations around the product's location -----------------
my $tm = $t->grant('/members/m.bin', '--uses', 5);
$r = $t->raw('GET', "/members/m.bin?bitcache_token=$tm");
is($r->{status}, 401, 'auth_basic location: the file with a token but no password: 401');
# fixed: the key is answered in the content phase, after the location's
# other access checks (it was answered in bitcache's access handler, which
# nginx runs before auth_basic and access: the key went out without the
# password, or to a denied address)
$r = key_get('/members/m.bin', $tm);
is($r->{status}, 401, 'auth_basic location: the key with a token but no password: 401');
ok(!exists json_of($r)->{key}, 'auth_basic location: no key without the password');
ok(BcTest::wait_until(sub { keys_count($tm) == 0 }, 5), 'auth_basic location, 401: the fetch counted was given back')
    or diag keys_count($tm);
$r = key_get('/members/m.bin', $tm, Authorization => 'Basic ' . MIME::Base64::encode_base64('member:pw', ''));
is($r->{status}, 200, 'auth_basic location: the key with the token and the password: 200');
ok(opens_to("$dir/m.sealed", json_of($r)->{key}, $file{m}), 'auth_basic location: the key opens the copy');
is(keys_count($tm), 1, 'auth_basic location, 200: one fetch counted');
my $td = $t->grant('/denied/d.bin', '--uses', 5);
$r = $t->raw('GET', "/denied/d.bin?bitcache_token=$td");
is($r->{status}, 403, 'deny all location: the file with a token: 403');
$r = key_get('/denied/d.bin', $td);
is($r->{status}, 403, 'deny all location: the key with a token: 403');
ok(!exists json_of($r)->{key}, 'deny all location: no key');
unlike($r->{content}, qr/[0-9a-f]{64}/, 'deny all location: no key in the body');
ok(BcTest::wait_until(sub { keys_count($td) == 0 }, 5), 'deny all location, 403: no fetch spent')
    or diag keys_count($td);
# satisfy any with an allow that matches: as the file (bitcache decides first)
$r = key_get('/any/y.bin', $t->grant('/any/y.bin', '--uses', 1));
is($r->{status}, 200, 'satisfy any + allow 127.0.0.1: the key for its token');
$r = key_get('/any/y.bin');
is($r->{status}, 402, 'satisfy any + allow 127.0.0.1, no token: 402 (as the file)');

# the released key's answer keeps the connection sound: two on one
# keep-alive connection, then a third request
{
    my $tk = $t->grant('/films/b.bin', '--uses', 0);
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->{http_port}, Timeout => 10)
        or die "connect: $!";
    my $one = "GET /bitcache/keys/films/b.bin?bitcache_token=$tk HTTP/1.1\r\nHost: x\r\n\r\n";
    print $s $one, $one, "GET /bitcache/keys/members/m.bin?bitcache_token=$tm HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    local $/;
    my $all = <$s> // '';
    my @st = $all =~ m{^HTTP/1\.1 (\d{3})}mg;
    is("@st", '200 200 401', 'pipelined: two keys, then the auth_basic one refused');
    my @keys = $all =~ /"key":"([0-9a-f]{64})"/g;
    is(scalar @keys, 2, 'pipelined: exactly two keys');
}
# HTTP/1.0 to the auth_basic location
{
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->{http_port}, Timeout => 10)
        or die "connect: $!";
    print $s "GET /bitcache/keys/members/m.bin?bitcache_token=$tm HTTP/1.0\r\n\r\n";
    local $/;
    my $all = <$s> // '';
    like($all, qr{^HTTP/1\.1 401}, 'HTTP/1.0, auth_basic location: 401');
    unlike($all, qr/[0-9a-f]{64}/, 'HTTP/1.0, auth_basic location: no key');
}

# a product set by a map: the key route only where the product is the path
my $tvc = $t->grant('/v/cheap.bin', '--uses', 5);
$r = key_get('/v/exp.bin', $tvc);
is($r->{status}, 404, 'map product: the cheap token on another file of the location: 404');
ok(!exists json_of($r)->{key}, 'map product: no key of exp');
$r = key_get('/v/cheap.bin', $tvc);
is($r->{status}, 200, 'map product: the cheap file\'s own key');
is(json_of($r)->{key_id}, $id{vc}, 'map product: cheap\'s key id');
# the cheap token for the file itself (the file route draws under the map's product)
$r = $t->raw('GET', "/v/exp.bin?bitcache_token=$tvc");
note("the file route for /v/exp.bin with the cheap token: $r->{status} (the operator's map sells it as cheap)");

# --- a Redis writer ----------------------------------------------------------
my $ra = 'bitcache:sealkey:/films/a.bin';
my $rb = 'bitcache:sealkey:/films/b.bin';
my %ka = @{ $t->redis('HGETALL', $ra) };
my %kb = @{ $t->redis('HGETALL', $rb) };
$t->redis('DEL', $ra);
$t->redis('HSET', $ra, %kb);            # b's record under a's name
my $ta3 = $t->grant('/films/a.bin', '--uses', 2);
$r = key_get('/films/a.bin', $ta3);
is($r->{status}, 409, 'b\'s record moved under a: 409');
ok(!exists json_of($r)->{key}, 'moved record: no key');
# fixed: the script counted the fetch before the record was found not to
# open, so each 409 spent one of the buyer's fetches; now given back
ok(BcTest::wait_until(sub { keys_count($ta3) == 0 }, 5), 'moved record: the buyer\'s fetch given back')
    or diag keys_count($ta3);
$r = key_get('/films/a.bin', $ta3);
is($r->{status}, 409, 'moved record, again: 409');
ok(BcTest::wait_until(sub { keys_count($ta3) == 0 }, 5), 'moved record, again: still no fetch spent')
    or diag keys_count($ta3);
$t->redis('DEL', $ra);
$t->redis('HSET', $ra, %ka);
$r = key_get('/films/a.bin', $ta3);
is($r->{status}, 200, 'record written back: 200');
my $key_a = json_of($r)->{key};

# keys field forged to a non-number, the record's type changed
my $tx = $t->grant('/films/a.bin', '--uses', 1);
$t->redis('HSET', 'bitcache:tok:' . tok_id($tx), 'keys', 'abc');
$r = key_get('/films/a.bin', $tx);
is($r->{status}, 503, 'keys not a number: 503');
ok(!exists json_of($r)->{key}, 'keys not a number: no key');
$t->redis('HSET', 'bitcache:tok:' . tok_id($tx), 'keys', '-5');
$r = key_get('/films/a.bin', $tx);
is($r->{status}, 503, 'keys forged negative: the count is not believed (503)');
ok(!exists json_of($r)->{key}, 'keys forged negative: no key');
$t->redis('DEL', $ra);
$t->redis('SET', $ra, 'x');
$r = key_get('/films/a.bin', $ta2);
is($r->{status}, 503, 'key record of the wrong type: 503');
ok(!exists json_of($r)->{key}, 'wrong type: no key');
$t->redis('DEL', $ra);
$t->redis('HSET', $ra, %ka, 'id', $id{b});
$r = key_get('/films/a.bin', $ta3);
is($r->{status}, 409, 'id field swapped: 409');
$t->redis('HSET', $ra, 'key', 'zz');
$r = key_get('/films/a.bin', $ta3);
is($r->{status}, 409, 'key field not hex: 409');
# (the fetch is given back after the 409 goes out: wait for it)
ok(BcTest::wait_until(sub { keys_count($ta3) == 1 }, 5),
   'id swapped, key not hex: no fetch spent (the one 200 before)') or diag keys_count($ta3);
$t->redis('DEL', $ra);
$t->redis('HSET', $ra, %ka);
$t->redis('SCRIPT', 'FLUSH');
$r = key_get('/films/a.bin', $ta2);
is($r->{status}, 200, 'after SCRIPT FLUSH: 200 (EVAL again)');
is(json_of($r)->{key}, $key_a, 'after SCRIPT FLUSH: the key');
# a Redis reader: the record holds no key in the clear
my %rec = @{ $t->redis('HGETALL', $ra) };
ok(index(join('', %rec), $key_a) < 0, 'the key record holds no key in the clear');
ok(index($t->error_log, $key_a) < 0, 'the error log holds no key');
{
    # nginx's own parser answers 400 (here for %00) before any module runs:
    # the token in that request's line is logged as sent
    local $TODO = 'a request nginx refuses as malformed (400) logs its query, token included';
    ok(index($t->access_log, $ta2) < 0, 'the access log holds no token')
        or diag join "\n", map { substr($_, 0, 160) } grep { index($_, $ta2) >= 0 } split /\n/, $t->access_log;
}
my @ok_lines = grep { index($_, '" 400 ') < 0 } split /\n/, $t->access_log;
ok(!grep({ index($_, $ta2) >= 0 } @ok_lines), 'no token in any line but nginx\'s own 400s');

# --- a lying host, as `bitcache open` sees it --------------------------------
my $tf = $t->grant('/films/f.bin', '--uses', 1);
unlink "$dir/out-f";
my ($rc, $out, $err) = $t->cli('open', "$dir/f.sealed", '-o', "$dir/out-f", '--token', $tf, '--host', $fake);
is($rc, 1, 'a host answering a wrong key: open fails');
like($err, qr/key/, '... over the key') or diag $err;
ok(!-e "$dir/out-f" || -s "$dir/out-f" == 0, 'wrong key: no output file');
# a host that redirects elsewhere
$id{g} = $t->seal('films/b.bin', "$dir/g.sealed", '/films/x.bin', $fake);
($rc, $out, $err) = $t->cli('open', "$dir/g.sealed", '-o', "$dir/out-g", '--token', $tf, '--host', $fake);
is($rc, 1, 'a host redirecting the key to another product: open fails');
ok(!-e "$dir/out-g", 'redirect: no output file');
# a header naming another key than its chunks (a crafted file)
open my $fh, '<:raw', "$dir/a.sealed" or die; my $sa = do { local $/; <$fh> }; close $fh;
my $pos = index($sa, pack('H*', $id{a}));
if ($pos >= 0) {
    substr($sa, $pos, 16) = pack('H*', $id{b});
    open $fh, '>:raw', "$dir/a-x.sealed" or die; print $fh $sa; close $fh;
    ($rc, $out, $err) = $t->cli('open', "$dir/a-x.sealed", '-o', "$dir/out-x", '--key', $key_b);
    isnt($rc, 0, 'a\'s chunks under b\'s key id, opened with b\'s key: fails');
    ok(!-e "$dir/out-x" || -s "$dir/out-x" == 0, 'crafted header: no output');
}
# truncated and appended copies
for my $cut (10, length($sa) - 5) {
    open $fh, '<:raw', "$dir/a.sealed" or die; my $s = do { local $/; <$fh> }; close $fh;
    open $fh, '>:raw', "$dir/a-c.sealed" or die; print $fh substr($s, 0, $cut); close $fh;
    unlink "$dir/out-c";
    ($rc) = $t->cli('open', "$dir/a-c.sealed", '-o', "$dir/out-c", '--key', $key_a);
    isnt($rc, 0, "truncated at $cut: fails");
    ok(!-e "$dir/out-c", "truncated at $cut: no output");
}
{
    open $fh, '<:raw', "$dir/a.sealed" or die; my $s = do { local $/; <$fh> }; close $fh;
    open $fh, '>:raw', "$dir/a-c.sealed" or die; print $fh $s . "extra"; close $fh;
    unlink "$dir/out-c";
    ($rc) = $t->cli('open', "$dir/a-c.sealed", '-o', "$dir/out-c", '--key', $key_a);
    isnt($rc, 0, 'appended bytes: fails');
    ok(!-e "$dir/out-c", 'appended bytes: no output');
}

# chunks reordered, a chunk-size field changed, a chunk dropped (1024-byte chunks)
$t->make_file('films/k.bin', 5000);
my $idk = $t->seal('films/k.bin', "$dir/k.sealed", '/films/k.bin', $api, '--chunk-size', 1024);
my $tk2 = $t->grant('/films/k.bin', '--uses', 1);
my $key_k = json_of(key_get('/films/k.bin', $tk2))->{key};
ok(defined $key_k, "k: the key");
{
    open my $kf, '<:raw', "$dir/k.sealed" or die; local $/; my $sk = <$kf>; close $kf;
    my $hl = length($sk) - (4 * 1040 + (5000 - 4096) + 16);
    my @ch = map { substr($sk, $hl + $_ * 1040, 1040) } 0 .. 3;
    my $tail = substr($sk, $hl + 4 * 1040);
    my %variant = (
        'chunks 1 and 2 swapped' => substr($sk, 0, $hl) . $ch[0] . $ch[2] . $ch[1] . $ch[3] . $tail,
        'chunk 2 dropped'        => substr($sk, 0, $hl) . $ch[0] . $ch[1] . $ch[3] . $tail,
        'chunk 1 twice'          => substr($sk, 0, $hl) . $ch[0] . $ch[1] . $ch[1] . $ch[2] . $ch[3] . $tail,
        'chunk size 2048'        => substr($sk, 0, 10) . pack('N', 2048) . substr($sk, 14),
        'chunk size 2^32-1'      => substr($sk, 0, 10) . pack('N', 0xffffffff) . substr($sk, 14),
        'last chunk only'        => substr($sk, 0, $hl) . $tail,
        'header only'            => substr($sk, 0, $hl),
        'host length 0xffff'     => substr($sk, 0, 38) . pack('n', 0xffff) . substr($sk, 40),
    );
    for my $name (sort keys %variant) {
        open $kf, '>:raw', "$dir/kx.sealed" or die; print $kf $variant{$name}; close $kf;
        unlink "$dir/out-kx";
        my ($rc2, undef, $e2) = $t->cli('open', "$dir/kx.sealed", '-o', "$dir/out-kx", '--key', $key_k);
        isnt($rc2, 0, "$name: refused");
        ok(!-e "$dir/out-kx", "$name: no output");
    }
}

# headers that could turn the key's answer into something else
my $tr = $t->grant('/films/b.bin', '--uses', 0);
$r = key_get('/films/b.bin', $tr, Range => 'bytes=0-9');
is($r->{status}, 200, 'Range: the whole answer (200)');
is(json_of($r)->{key}, $key_b, 'Range: the key, whole');
$r = key_get('/films/b.bin', $tr, 'If-None-Match' => '*');
is($r->{status}, 200, 'If-None-Match: *: 200, never 304');
$r = key_get('/films/b.bin', $tr, 'If-Modified-Since' => 'Tue, 01 Dec 2099 00:00:00 GMT');
is($r->{status}, 200, 'If-Modified-Since in the future: 200');
$r = key_get('/films/b.bin', $tr, Origin => 'https://evil.example');
ok(!grep({ /^access-control-/ } keys %{ $r->{headers} }), 'another Origin: no CORS header');
$r = key_get('/films/b.bin', $tr, 'Accept-Encoding' => 'gzip');
is(json_of($r)->{key}, $key_b, 'Accept-Encoding: gzip: the JSON as it is');

# --- two hosts, one Redis, two secrets -----------------------------------------
sub key_get2 {
    my ($path, $token) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port2, Timeout => 10)
        or die "connect: $!";
    print $s "GET /bitcache/keys$path?bitcache_token=$token HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n";
    local $/;
    my $all = <$s> // '';
    my ($st) = $all =~ m{^HTTP/1\.1 (\d{3})};
    my ($body) = $all =~ /\r\n\r\n(.*)\z/s;
    return { status => $st // 0, content => $body // '' };
}
my ($rc2, $o2, $e2) = $t->cli('grant', '/films/b.bin', '--uses', 2, '--secret', "$dir/secret2",
                              '--redis', $t->redis_addr);
chomp(my $tok2 = $o2 // '');
($tok2) = $tok2 =~ /(\S+)\s*\z/;
my $ta4 = $t->grant('/films/b.bin', '--uses', 2);
$r = key_get2('/films/b.bin', $ta4);
is($r->{status}, 402, 'host 1\'s token at host 2: 402 (bad MAC)');
ok(!exists json_of($r)->{key}, 'host 1\'s token at host 2: no key');
$r = key_get2('/films/b.bin', $tok2);
is($r->{status}, 409, 'host 2\'s own token for host 1\'s key record: 409');
sleep 0.2;
is($t->redis('HGET', 'bitcache:tok:' . tok_id($tok2), 'keys') // 0, 0,
   'host 2\'s token: the fetch given back');
$r = key_get('/films/b.bin', $tok2);
is($r->{status}, 402, 'host 2\'s token at host 1: 402');
# host 2's operator seals the same product: host 1's copies must still open
my ($src) = $t->cli('seal', "$dir/html/films/b.bin", "$dir/b2.sealed", '--product', '/films/b.bin',
                    '--host', "http://127.0.0.1:$port2/bitcache", '--secret', "$dir/secret2",
                    '--redis', $t->redis_addr);
note("bitcache seal of host 1's product under host 2's secret: rc $src");
$r = key_get('/films/b.bin', $ta4);
is($r->{status}, 200, 'after host 2 sealed the same product: host 1 still releases its key');
is(json_of($r)->{key}, $key_b, 'after host 2 sealed: host 1\'s key unchanged');

# --- a Redis writer on the token's record ------------------------------------
my $tu = $t->grant('/films/b.bin', '--uses', 1);
is(key_get('/films/b.bin', $tu)->{status}, 200, 'uses 1: the key');
is(key_get('/films/b.bin', $tu)->{status}, 402, 'uses 1: then used up');
$t->redis('HSET', 'bitcache:tok:' . tok_id($tu), 'uses', 100);
is(key_get('/films/b.bin', $tu)->{status}, 402, 'uses raised in Redis: still used up (the token\'s uses count)');
{
    local $TODO = 'a Redis writer who deletes or lowers the keys field gives fetches again '
                . '(as deleting a b:<uri> counter gives bytes again): counts are not MAC\'d';
    $t->redis('HDEL', 'bitcache:tok:' . tok_id($tu), 'keys');
    is(key_get('/films/b.bin', $tu)->{status}, 402, 'keys field deleted: still used up');
}
my $tw = $t->grant('/films/b.bin', '--uses', 1);
my $twk = 'bitcache:tok:' . tok_id($tw);
my %twr = @{ $t->redis('HGETALL', $twk) };
$t->redis('DEL', $twk);
$t->redis('SET', $twk, 'x');
$r = key_get('/films/b.bin', $tw);
is($r->{status}, 503, 'token record of the wrong type: 503');
ok(!exists json_of($r)->{key}, 'token record of the wrong type: no key');
$t->redis('DEL', $twk);
$r = key_get('/films/b.bin', $tw);
is($r->{status}, 402, 'token record deleted: 402 unknown');
is(json_of($r)->{reason}, 'unknown token', 'token record deleted: unknown token');
is($t->redis('EXISTS', $twk), 0, 'token record deleted: not made again by the fetch');

# --- parallel fetches: never more keys than uses (and the refunds of
# refused ones take back nothing they did not count) -----------------------------
{
    my $tp = $t->grant('/films/b.bin', '--uses', 3);
    my @kids;
    for my $i (1 .. 12) {
        my $pid = fork // die;
        if (!$pid) {
            my $rr = key_get('/films/b.bin', $tp);
            POSIX::_exit($rr->{status} == 200 ? 0 : 1);
        }
        push @kids, $pid;
    }
    my $got = 0;
    for (@kids) { waitpid($_, 0); $got++ if $? == 0 }
    is($got, 3, '12 parallel fetches with a token of 3 uses: 3 keys');
    sleep 0.2;
    is(keys_count($tp), 3, '... and the count is 3');
    $r = $t->raw('GET', "/members/m.bin");
    for my $i (1 .. 5) { key_get('/members/m.bin', $tm) }      # 401s, each given back
    sleep 0.2;
    is(keys_count($tm), 1, 'five 401s at the auth_basic location: still the one fetch');
}

done_testing;
