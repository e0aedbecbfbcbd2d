// Per-datagram CPU cost of sendmmsg(2) batches of loopback multicast datagrams (ttl 0, one member
// joined, not reading meanwhile), on CPU 1. Issue 17 evidence (benchmarks/RESULTS.md).
// Build: gcc -O2 -o mmsg mmsg.c; run: ./mmsg BATCH SIZE [DATAGRAMS]
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sched.h>
static double cpu(){struct timespec t;clock_gettime(CLOCK_THREAD_CPUTIME_ID,&t);return t.tv_sec*1e9+t.tv_nsec;}
int main(int argc,char**argv){
  int batch=atoi(argv[1]); int size=atoi(argv[2]); int total=argc>3?atoi(argv[3]):20000;
  cpu_set_t s;CPU_ZERO(&s);CPU_SET(1,&s);sched_setaffinity(0,sizeof s,&s);
  int r=socket(AF_INET,SOCK_DGRAM,0); int one=1; setsockopt(r,SOL_SOCKET,SO_REUSEADDR,&one,4);
  int big=128<<20; setsockopt(r,SOL_SOCKET,SO_RCVBUFFORCE,&big,4);
  struct sockaddr_in a={0};a.sin_family=AF_INET;a.sin_port=htons(45679);a.sin_addr.s_addr=inet_addr("239.254.1.3");
  bind(r,(void*)&a,sizeof a);
  struct ip_mreq m;m.imr_multiaddr.s_addr=inet_addr("239.254.1.3");m.imr_interface.s_addr=inet_addr("127.0.0.1");
  setsockopt(r,IPPROTO_IP,IP_ADD_MEMBERSHIP,&m,sizeof m);
  int w=socket(AF_INET,SOCK_DGRAM,0); struct in_addr ifa;ifa.s_addr=inet_addr("127.0.0.1");
  setsockopt(w,IPPROTO_IP,IP_MULTICAST_IF,&ifa,sizeof ifa); int ttl=0; setsockopt(w,IPPROTO_IP,IP_MULTICAST_TTL,&ttl,4);
  setsockopt(w,IPPROTO_IP,IP_MULTICAST_LOOP,&one,4); connect(w,(void*)&a,sizeof a);
  char*buf=calloc(1,1<<20); struct mmsghdr *h=calloc(batch,sizeof *h); struct iovec*v=calloc(batch,sizeof *v);
  for(int i=0;i<batch;i++){v[i].iov_base=buf+i*size;v[i].iov_len=size;h[i].msg_hdr.msg_iov=&v[i];h[i].msg_hdr.msg_iovlen=1;}
  double c0=cpu(); long sent=0;
  for(int i=0;i<total/batch;i++){int n=sendmmsg(w,h,batch,0); if(n<0){perror("sendmmsg");break;} sent+=n;}
  double c1=cpu(); long rc=0; char rb[2048]; while(recv(r,rb,sizeof rb,MSG_DONTWAIT)>0) rc++;
  printf("sendmmsg batch=%d size=%d: cpu/datagram=%.0f ns (received %ld)\n",batch,size,(c1-c0)/sent,rc);
}
