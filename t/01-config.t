#!/usr/bin/perl
# nginx -t: every bad directive value is refused with a message that names
# the directive, the file and line, and what is wrong; good ones pass.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use BcTest;

my $t = BcTest->new;
my $dir = $t->dir;
$t->write_file('short.secret', "00112233\n", 0600);
$t->write_file('open.secret', ('ab' x 32) . "\n", 0644);
$t->write_file('text.secret', ('zz' x 32) . "\n", 0600);
$t->write_file('bad-page.html', "<html>\n{{#offer}} unclosed\n</html>\n");

sub conf_with {
    my ($redis_line, $loc) = @_;
    return <<"CONF";
    $redis_line
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%DIR%%/html;
        location /files/ {
            $loc
        }
    }
CONF
}

my $good_loc = 'bitcache on; bitcache_secret %%DIR%%/secret;';
my $redis = 'bitcache_redis 127.0.0.1:6379;';

my ($rc, $out) = $t->nginx_test(conf_with($redis, $good_loc . ' bitcache_product $uri; bitcache_token_ttl 7d; bitcache_max_downloads 0;'));
is($rc, 0, 'a good configuration passes nginx -t') or diag $out;

($rc, $out) = $t->nginx_test(conf_with('bitcache_redis unix:/run/redis/redis.sock timeout=2s db=3 password=p prefix=shop1:;', $good_loc));
is($rc, 0, 'unix socket and every bitcache_redis option') or diag $out;

($rc, $out) = $t->nginx_test(conf_with('bitcache_redis localhost:6380;', $good_loc));
is($rc, 0, 'a host name is resolved at configuration time') or diag $out;

# the example configuration is a working one
{
    open my $fh, '<', 'conf.example/nginx.conf' or die;
    my $ex = do { local $/; <$fh> };
    $ex =~ s{load_module modules/}{load_module $BcTest::ROOT/build/};
    $ex =~ s{listen 80;}{listen 127.0.0.1:%%PORT%%;};
    $ex =~ s{/etc/nginx/bitcache.secret}{%%DIR%%/secret};
    $ex =~ s{/srv/shop}{%%DIR%%/html};
    $ex =~ s{include mime.types;}{include /etc/nginx/mime.types;};
    $ex =~ s{%%DIR%%}{$dir}g;
    $ex =~ s{%%PORT%%}{$t->{http_port} || BcTest::free_port()}ge;
    my $conf = $t->write_file('example.conf', "error_log $dir/logs/example.log;\npid $dir/logs/example.pid;\n$ex");
    my $out = `nginx -t -p $dir -c $conf -g 'daemon on;' 2>&1`;
    is($? >> 8, 0, 'conf.example/nginx.conf passes nginx -t') or diag $out;
}

my @bad = (
    # [ redis line, location body, the line that must be named, what is wrong ]
    [ $redis, 'bitcache maybe; bitcache_secret %%DIR%%/secret;', 'bitcache maybe;',
      qr/invalid value "maybe" in "bitcache" directive, it must be "on" or "off"/ ],
    [ 'bitcache_redis 127.0.0.1:99999;', $good_loc, 'bitcache_redis 127.0.0.1:99999;',
      qr/"bitcache_redis": invalid address "127.0.0.1:99999": invalid port/ ],
    [ 'bitcache_redis no-such-host.invalid:6379;', $good_loc, 'bitcache_redis no-such-host',
      qr/"bitcache_redis": invalid address "no-such-host.invalid:6379": host not found/ ],
    [ 'bitcache_redis unix:relative.sock;', $good_loc, 'bitcache_redis unix:relative',
      qr/"bitcache_redis": "unix:relative.sock" must be unix:\/absolute\/path/ ],
    [ 'bitcache_redis 127.0.0.1:6379 timeout=abc;', $good_loc, 'timeout=abc',
      qr/"bitcache_redis": invalid timeout "abc", expected a time such as 500ms or 2s/ ],
    [ 'bitcache_redis 127.0.0.1:6379 timeout=0;', $good_loc, 'timeout=0',
      qr/"bitcache_redis": invalid timeout "0"/ ],
    [ 'bitcache_redis 127.0.0.1:6379 db=-1;', $good_loc, 'db=-1',
      qr/"bitcache_redis": invalid "db=-1", db must be a number >= 0/ ],
    [ 'bitcache_redis 127.0.0.1:6379 prefix=' . ('x' x 129) . ';', $good_loc, 'prefix=x',
      qr/"bitcache_redis": prefix is longer than 128 bytes/ ],
    [ 'bitcache_redis 127.0.0.1:6379 speed=fast;', $good_loc, 'speed=fast',
      qr/"bitcache_redis": unknown parameter "speed=fast", expected timeout=, user=, password=, db=, prefix=, sentinel=, master=, sentinel_user= or sentinel_password=/ ],
    [ "$redis $redis", $good_loc, 'bitcache_redis 127.0.0.1:6379; bitcache_redis',
      qr/"bitcache_redis" directive is duplicate/ ],
    [ $redis, 'bitcache on; bitcache_secret %%DIR%%/missing.secret;', 'missing.secret',
      qr/"bitcache_secret": cannot open "\Q$dir\E\/missing.secret": No such file or directory/ ],
    [ $redis, 'bitcache on; bitcache_secret %%DIR%%/short.secret;', 'short.secret',
      qr/"bitcache_secret": "\Q$dir\E\/short.secret" must hold 32 to 128 random bytes as hex/ ],
    [ $redis, 'bitcache on; bitcache_secret %%DIR%%/open.secret;', 'open.secret',
      qr/"bitcache_secret": "\Q$dir\E\/open.secret" is accessible by others \(mode 0644\), chmod 600 it/ ],
    [ $redis, 'bitcache on; bitcache_secret %%DIR%%/text.secret;', 'text.secret',
      qr/"bitcache_secret": "\Q$dir\E\/text.secret" holds something other than hex digits/ ],
    [ $redis, $good_loc . ' bitcache_token_ttl soon;', 'bitcache_token_ttl soon',
      qr/"bitcache_token_ttl": invalid time "soon", expected a positive time such as 30m, 12h or 7d/ ],
    [ $redis, $good_loc . ' bitcache_token_ttl 0;', 'bitcache_token_ttl 0',
      qr/"bitcache_token_ttl": invalid time "0"/ ],
    [ $redis, $good_loc . ' bitcache_max_downloads -1;', 'bitcache_max_downloads -1',
      qr/"bitcache_max_downloads": invalid number "-1", expected a whole number from 0 to 2147483647 \(0 = unlimited\)/ ],
    [ $redis, $good_loc . ' bitcache_max_downloads lots;', 'bitcache_max_downloads lots',
      qr/"bitcache_max_downloads": invalid number "lots"/ ],
    [ $redis, $good_loc . ' bitcache_product;', 'bitcache_product;',
      qr/invalid number of arguments in "bitcache_product" directive/ ],
    [ $redis, $good_loc . ' bitcache_price "0.000000001 BTC";', 'bitcache_price',
      qr/"bitcache_price": "0.000000001 BTC" has more than 8 decimals/ ],
    [ $redis, $good_loc . ' bitcache_price "12 euros";', 'bitcache_price',
      qr/"bitcache_price": "12 euros" has an unknown unit \(sats or BTC\)/ ],
    [ $redis, $good_loc . ' bitcache_price 0;', 'bitcache_price',
      qr/"bitcache_price": "0" is zero/ ],
    [ $redis, $good_loc . ' bitcache_network moon;', 'bitcache_network',
      qr/"bitcache_network": unknown network "moon", expected mainnet, testnet, signet or regtest/ ],
    [ $redis, $good_loc . ' bitcache_confirmations 101;', 'bitcache_confirmations',
      qr/"bitcache_confirmations": invalid number "101", expected a whole number from 0 to 100/ ],
    [ $redis, $good_loc . ' bitcache_invoice_ttl never;', 'bitcache_invoice_ttl',
      qr/"bitcache_invoice_ttl": invalid time "never"/ ],
    [ $redis, $good_loc . ' bitcache_wallet xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi;', 'bitcache_wallet',
      qr/"bitcache_wallet": .* is not usable on mainnet: .*never hold a private key/ ],
    [ $redis, $good_loc . ' bitcache_network regtest; bitcache_wallet xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8;', 'bitcache_wallet',
      qr/"bitcache_wallet": .* is not usable on regtest/ ],
    [ $redis, $good_loc . ' bitcache_page %%DIR%%/nopage.html;', 'bitcache_page',
      qr/"bitcache_page": cannot open "\Q$dir\E\/nopage.html"/ ],
    [ $redis, $good_loc . ' bitcache_page %%DIR%%/bad-page.html;', 'bitcache_page',
      qr/"bitcache_page": "\Q$dir\E\/bad-page.html": .*line 2/ ],
    [ $redis, $good_loc . ' bitcache_watcher_key abcd;', 'bitcache_watcher_key',
      qr/"bitcache_watcher_key": "abcd" is not an x-only public key/ ],
    [ $redis, 'bitcache_secret %%DIR%%/secret; bitcache_api;', undef,
      qr/"bitcache_api" needs "bitcache_secret", "bitcache_watcher_key" and "bitcache_redis"/ ],
    [ $redis, 'bitcache on;', undef,
      qr/"bitcache on" needs "bitcache_secret" in the same or an enclosing block/ ],
    [ '', $good_loc, undef,
      qr/"bitcache on" needs "bitcache_redis" in the http block/ ],
);

my $n = 0;
for my $case (@bad) {
    my ($redis_line, $loc, $needle, $want) = @$case;
    $n++;
    my ($rc, $out, $conf) = $t->nginx_test(conf_with($redis_line, $loc), "bad$n.conf");
    isnt($rc, 0, "case $n fails nginx -t");
    like($out, $want, "case $n says what is wrong");
    # which line the message must point at
    open my $fh, '<', $conf or die;
    my @lines = <$fh>;
    my $line;
    if (defined $needle) {
        ($line) = grep { index($lines[$_ - 1], $needle) >= 0 } 1 .. @lines;
    }
    if (defined $line) {
        like($out, qr/\[emerg\] .* in \Q$conf\E:$line\b/, "case $n names $conf:$line");
    } else {
        like($out, qr/\[emerg\] .* in \Q$conf\E:\d+/, "case $n names the file and a line");
    }
}

done_testing;
