// The journal's durable-append pattern outside the exchange (benchmarks/RESULTS.md, "Durability:
// the sync path and the shared turn"): an 88-byte record per 4 KiB O_DIRECT block rewrite into a
// fallocated 256 MiB file, each followed by the mode's sync, one at a time; prints p50/p90/p99/max.
// Modes: sys (pwrite + fdatasync), sysdsync (pwritev2 RWF_DSYNC), chain (io_uring write linked to
// fdatasync, busy-polled, DEFER_TASKRUN: what JournalAgent does), chainasync (the same with
// IOSQE_ASYNC), dsync / dsyncasync (one io_uring write with RWF_DSYNC).
//   cc -O2 -o /tmp/sync-probe benchmarks/sync-probe/sync-probe.c -luring
//   nice -n 19 /tmp/sync-probe /var/tmp/sync-probe.dat 2000 3 sys,chain,chainasync,dsync
// The file is removed at the end; a case stuck for 2 s exits with status 2.
#define _GNU_SOURCE
#include <liburing.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/uio.h>
static long long now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1000000000LL+t.tv_nsec;}
static int cmp(const void*a,const void*b){long long x=*(long long*)a,y=*(long long*)b;return x<y?-1:x>y;}
static long long lat[200000]; static long long sub[200000];
static void report(const char*name,int n){qsort(sub,n,sizeof sub[0],cmp);printf("  submit p50 %.1f p90 %.1f max %.1f\n",sub[n/2]/1e3,sub[n*9/10]/1e3,sub[n-1]/1e3);qsort(lat,n,sizeof lat[0],cmp);printf("%-10s n=%d p50 %.1f p90 %.1f p99 %.1f max %.1f us\n",name,n,lat[n/2]/1e3,lat[n*9/10]/1e3,lat[n*99/100]/1e3,lat[n-1]/1e3);fflush(stdout);}
int main(int argc,char**argv){
  const char*path=argv[1]; int n=atoi(argv[2]); int rounds=atoi(argv[3]); const char*modes=argc>4?argv[4]:"chain,dsync,chainasync,sys,sysdsync";
  int fd=open(path,O_RDWR|O_CREAT|O_TRUNC|O_DIRECT,0644); if(fd<0){perror("open");return 1;}
  if(fallocate(fd,0,0,256<<20)){perror("fallocate");return 1;} fsync(fd);
  void*buf; posix_memalign(&buf,4096,4096); memset(buf,'x',4096);
  struct io_uring ring; struct io_uring_params p; memset(&p,0,sizeof p);
  p.flags=IORING_SETUP_SINGLE_ISSUER|IORING_SETUP_DEFER_TASKRUN|IORING_SETUP_TASKRUN_FLAG;
  if(io_uring_queue_init_params(8,&ring,&p)){perror("setup");return 1;}
  long long off=0; /* tip in bytes; each op adds 88 bytes */
  for(int r=0;r<rounds;r++){
    char m[256]; strcpy(m,modes);
    for(char*mode=strtok(m,",");mode;mode=strtok(NULL,",")){
      for(int i=0;i<n;i++){
        long long blk=off/4096*4096; off+=88; if(off>=(250<<20)) off=0;
        long long t0=now();
        if(!strcmp(mode,"sys")){ if(pwrite(fd,buf,4096,blk)!=4096||fdatasync(fd)){perror("w");return 1;} }
        else if(!strcmp(mode,"sysdsync")){ struct iovec v={buf,4096}; if(pwritev2(fd,&v,1,blk,RWF_DSYNC)!=4096){perror("w2");return 1;} }
        else {
          int want;
          struct io_uring_sqe*s=io_uring_get_sqe(&ring);
          io_uring_prep_write(s,fd,buf,4096,blk);
          if(!strcmp(mode,"dsync")||!strcmp(mode,"dsyncasync")){ s->rw_flags=RWF_DSYNC; want=1; if(!strcmp(mode,"dsyncasync")) s->flags|=IOSQE_ASYNC; }
          else { s->flags|=IOSQE_IO_LINK; if(!strcmp(mode,"chainasync")) s->flags|=IOSQE_ASYNC; struct io_uring_sqe*f=io_uring_get_sqe(&ring); io_uring_prep_fsync(f,fd,IORING_FSYNC_DATASYNC); want=2; }
          long long ts=now(); io_uring_submit_and_get_events(&ring); sub[i]=now()-ts;
          int got=0;
          long long tstart=now();
          while(got<want){
            if(now()-tstart>2000000000LL){fprintf(stderr,"%s stuck at op %d got %d sqflags %x\n",mode,i,got,IO_URING_READ_ONCE(*ring.sq.kflags));return 2;}
            struct io_uring_cqe*c;
            while(io_uring_peek_cqe(&ring,&c)==0){ if(c->res<0){fprintf(stderr,"%s res %d\n",mode,c->res);return 1;} io_uring_cqe_seen(&ring,c); got++; }
            if(got<want && (IO_URING_READ_ONCE(*ring.sq.kflags)&IORING_SQ_TASKRUN)) io_uring_get_events(&ring);
          }
        }
        lat[i]=now()-t0;
      }
      char name[64]; snprintf(name,64,"%s r%d",mode,r); report(name,n);
    }
  }
  close(fd); unlink(path); return 0;
}
