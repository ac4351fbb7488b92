#!/usr/bin/perl
# Uses are counted atomically: with N allowed downloads, of many parallel
# requests (over two workers) exactly N get the file.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Digest::SHA qw(sha256_hex);
use BcTest;

my $t = BcTest->new;
$t->start_redis;
my $data = $t->make_file('files/album.zip', 256 * 1024);
$t->start_nginx(undef, workers => 2);

for my $case ([5, 60], [1, 40], [17, 80]) {
    my ($uses, $parallel) = @$case;
    my $tok = $t->grant('/files/album.zip', '--uses', $uses);
    my $dir = $t->dir . "/race$uses";
    mkdir $dir;
    my @args = ('curl', '-s', '--no-progress-meter', '--parallel', '--parallel-immediate', '--parallel-max', $parallel);
    for my $i (1 .. $parallel) {
        push @args, '-o', "$dir/$i", '-w', '%{http_code}\n', $t->url("/files/album.zip?bitcache_token=$tok");
    }
    open my $p, '-|', @args or die "curl: $!";
    my @codes = <$p>;
    close $p;
    chomp @codes;
    is(scalar @codes, $parallel, "$parallel answers");
    my $ok = grep { $_ eq '200' } @codes;
    my $refused = grep { $_ eq '402' } @codes;
    is($ok, $uses, "exactly $uses of $parallel parallel requests got the file");
    is($refused, $parallel - $uses, 'the others got 402');
    my $good = grep { -s $_ == length($data) && do { open my $f, '<', $_; local $/; sha256_hex(<$f>) eq sha256_hex($data) } }
               map { "$dir/$_" } 1 .. $parallel;
    is($good, $uses, 'and each of those has the exact bytes');
}

$t->stop_nginx;
$t->check_log_clean;
done_testing;
